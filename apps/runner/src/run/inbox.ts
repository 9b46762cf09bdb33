/**
 * Messages people send a running agent (`run.sendMessage` → a `user.message` event on the
 * run's stream): kept here until the engine takes them at its next turn. Each message is
 * handed out once, however often the stream brings it (a resumed stream replays).
 */
import type { InboxMessage, MessageInbox } from "../engines/types.js";

export class RunInbox implements MessageInbox {
  private readonly waiting: InboxMessage[] = [];
  private readonly seen = new Set<string>();

  put(message: InboxMessage): void {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.waiting.push(message);
  }

  take(): InboxMessage[] {
    return this.waiting.splice(0, this.waiting.length);
  }

  pending(): number {
    return this.waiting.length;
  }
}
