/**
 * Records every child process started while the server handles an HTTP request, in this
 * process: the API's request handler runs inside an AsyncLocalStorage context (entered
 * where `http.Server` emits `request`), and every child process of Node — spawn, execFile,
 * exec — goes through `ChildProcess.prototype.spawn`. What an in-process runner starts
 * from its own loop is outside any request, so it is not recorded; what the server starts
 * on behalf of a call, however deep, is.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ChildProcess } from "node:child_process";
import http from "node:http";

export interface Spawned {
  file: string;
  args: string[];
}

interface SpawnProto {
  spawn(this: ChildProcess, options: { file: string; args?: string[] }): unknown;
}

export function watchRequestSpawns(): { spawned: Spawned[]; restore(): void } {
  const inRequest = new AsyncLocalStorage<true>();
  const spawned: Spawned[] = [];
  const proto = ChildProcess.prototype as unknown as SpawnProto;
  const spawn = proto.spawn;
  type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  const emit = http.Server.prototype.emit as Emit;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") return inRequest.run(true, () => emit.call(this, event, ...args));
    return emit.call(this, event, ...args);
  };
  proto.spawn = function (this: ChildProcess, options) {
    if (inRequest.getStore()) spawned.push({ file: options.file, args: [...(options.args ?? [])] });
    return spawn.call(this, options);
  };
  return {
    spawned,
    restore() {
      proto.spawn = spawn;
      http.Server.prototype.emit = emit;
    },
  };
}
