import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { seedBoard, startTestApi, type TestApi } from "../testing/harness.js";

/** With SMTP configured, an invitation that names someone is mailed to them (a real SMTP server on this machine receives it). */
describe("invitation e-mail on sqlite", () => {
  const received: { to: string; body: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      let body = "";
      stream.on("data", (c: Buffer) => (body += c.toString()));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), body });
        callback();
      });
    },
  });
  let api: TestApi;
  let seed: Awaited<ReturnType<typeof seedBoard>>;

  beforeAll(async () => {
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    api = await startTestApi("sqlite", { mail: { smtpUrl: `smtp://127.0.0.1:${port}`, from: "board@team.test", publicUrl: "https://board.team.test/" } });
    seed = await seedBoard(api);
  });
  afterAll(async () => {
    await api.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  it("mails the link to the invited address; an invitation for anyone is a link only", async () => {
    const inv = await api.admin.invitation.create({ workspaceId: seed.workspace.id, role: "member", email: "Zoe@Team.test" });
    expect(inv.emailed).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toBe("zoe@team.test");
    // Quoted-printable may fold long lines: unfold before looking for the link.
    const text = received[0]!.body.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
    expect(text).toContain(`https://board.team.test/invite#code=${inv.code}`);
    const open = await api.admin.invitation.create({ workspaceId: seed.workspace.id, role: "viewer" });
    expect(open.emailed).toBe(false);
    expect(received).toHaveLength(1);
  });
});
