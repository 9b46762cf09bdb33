/** The runner's own log: one line per event, as text for people or JSON for collectors. */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  format?: "text" | "json";
  write?: (line: string) => void;
  fields?: LogFields;
}

function quote(value: string): string {
  return /^[\w./:@+-]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = opts.fields ?? {};
  const emit = (level: "info" | "warn" | "error", msg: string, fields: LogFields = {}) => {
    const all = { ...base, ...fields };
    if (opts.format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
      return;
    }
    const kv = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${quote(String(v))}`)
      .join(" ");
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}${kv ? ` ${kv}` : ""}`);
  };
  return {
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
