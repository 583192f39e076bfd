// Sign-up mail through nodemailer to SMTP_URL. Without SMTP_URL (pnpm dev) the code goes to the log,
// so a developer can verify an account without a mail server.
import nodemailer from 'nodemailer';
import type { BaseLogger } from 'pino';

// Every SMTP step is bounded: a stuck mail server must not keep a send (or shutdown) waiting forever.
const SMTP_TIMEOUT_MS = 10_000;

export interface MailerOptions {
  smtpUrl: URL | undefined;
  from: string;
  codeTtlS: number;
  logger: Pick<BaseLogger, 'info' | 'warn'>;
}

export interface Mailer {
  sendVerificationCode(to: string, code: string): Promise<void>;
  close(): void;
}

export function createMailer({ smtpUrl, from, codeTtlS, logger }: MailerOptions): Mailer {
  if (smtpUrl === undefined) {
    return {
      async sendVerificationCode(to, code) {
        logger.info(
          { to, verificationCode: code },
          'SMTP_URL is unset: the verification code is logged instead of sent',
        );
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport({
    url: smtpUrl.href,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  const minutes = Math.ceil(codeTtlS / 60);
  return {
    async sendVerificationCode(to, code) {
      await transport.sendMail({
        from,
        to,
        subject: 'Your mokakbab verification code',
        text: `Your mokakbab verification code is ${code}. It expires in ${minutes} minutes.`,
      });
    },
    close() {
      transport.close();
    },
  };
}
