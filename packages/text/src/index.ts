// Pure text rules shared by the server (@agentboard/api) and the runner (through
// @agentboard/client): a package of its own, so that the client needs nothing of the server.

/**
 * What every text of every input becomes before it is validated: text both databases store
 * alike. PostgreSQL refuses NUL in `text` and `jsonb`, and unpaired UTF-16 surrogates in
 * `jsonb`; SQLite would keep them. Both are replaced by U+FFFD (the replacement character,
 * what a UTF-8 decoder makes of bytes it cannot read), in values and in object keys, so
 * a command's binary output is stored instead of refusing the whole batch it came in.
 */
export const REPLACEMENT_CHARACTER = "\ufffd";

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters PostgreSQL cannot store.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

export function storableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, REPLACEMENT_CHARACTER) : text;
}
