import type { Transporter } from "nodemailer";

/** Sends the server's few e-mails (invitations), when SMTP is configured. */
export interface Mailer {
  /** The board's public address: links in mails must be absolute. */
  publicUrl: string;
  send(message: { to: string; subject: string; text: string }): Promise<void>;
}

export interface MailOptions {
  /** `smtp://user:password@host:port` (or `smtps://…`). */
  smtpUrl: string;
  from: string;
  publicUrl: string;
}

/** nodemailer is loaded by the first mail, not at start (about 14 MB of the server's memory). */
export function createMailer(opts: MailOptions): Mailer {
  let transport: Promise<Transporter> | undefined;
  return {
    publicUrl: opts.publicUrl.replace(/\/+$/, ""),
    async send(message) {
      transport ??= import("nodemailer")
        .then(({ default: nodemailer }) => nodemailer.createTransport(opts.smtpUrl))
        .catch((err: unknown) => {
          transport = undefined; // the next mail tries again
          throw err;
        });
      await (await transport).sendMail({ from: opts.from, ...message });
    },
  };
}
