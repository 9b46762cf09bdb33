/** The browser session of a token sign-in: an httpOnly cookie holding an API token, set by /login (no imports: pages read it). */
export const SESSION_COOKIE = "agentboard_session";

/** A person's session cookie (better-auth's, `__Secure-` prefixed under https). */
export const PERSON_SESSION_COOKIES = ["agentboard.session_token", "__Secure-agentboard.session_token"];
