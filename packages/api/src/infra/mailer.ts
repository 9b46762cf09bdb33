import nodemailer from "nodemailer";

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

export function createMailer(opts: MailOptions): Mailer {
  const transport = nodemailer.createTransport(opts.smtpUrl);
  return {
    publicUrl: opts.publicUrl.replace(/\/+$/, ""),
    async send(message) {
      await transport.sendMail({ from: opts.from, ...message });
    },
  };
}
