import { createHash, randomBytes } from "node:crypto";

/** Tokens are random secrets; only their SHA-256 is stored. */
export function generateToken(): string {
  return `ab_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function tokenPrefix(token: string): string {
  return token.slice(0, 10);
}
