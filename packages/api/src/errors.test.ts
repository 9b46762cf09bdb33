import { describe, expect, it } from "vitest";
import { type AppError, conflict, toTRPCError } from "./errors.js";

describe("error mapping", () => {
  it("keeps a domain error's code and reason", () => {
    const e = toTRPCError(conflict("LEASE_LOST", "lease gone"));
    expect(e.code).toBe("CONFLICT");
    expect(e.message).toBe("lease gone");
    expect((e.cause as AppError).reason).toBe("LEASE_LOST");
  });

  it("hides unknown errors behind a generic message and keeps them as the cause", () => {
    const secret = new Error("connect ECONNREFUSED /var/run/postgresql/.s.PGSQL.5432 password=hunter2");
    const e = toTRPCError(secret);
    expect(e.code).toBe("INTERNAL_SERVER_ERROR");
    expect(e.message).toBe("internal error");
    expect(e.cause).toBe(secret);
  });
});
