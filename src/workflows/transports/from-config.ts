/** The transports as a process builds them from its Config (for the workflow engine's composition). */
import type { Config } from '../../config/load-config.js';
import { createMailTransport, messageIdDomain, type MailTransport } from './email.js';
import { WebhookSender } from './webhook-sender.js';

export function webhookSenderFromConfig(config: Config): WebhookSender {
  return new WebhookSender({ timeoutMs: config.webhook.timeoutMs, allowPrivate: config.webhook.allowPrivate, allowedHosts: config.webhook.allowedHosts });
}

export function mailTransportFromConfig(config: Config): MailTransport {
  return createMailTransport({ smtpUrl: config.email.smtpUrl ?? undefined, outboxDir: config.email.outboxDir });
}

/** The outbox of OUTBOX_DIR whatever SMTP_URL says: where test mode's email goes. */
export function outboxTransportFromConfig(config: Config): MailTransport {
  return createMailTransport({ outboxDir: config.email.outboxDir });
}

/** The domain of every Message-ID this process mints (EMAIL_FROM's, else PUBLIC_URL's host). */
export function messageIdDomainFromConfig(config: Config): string {
  return messageIdDomain(config.email.from, config.publicUrl);
}
