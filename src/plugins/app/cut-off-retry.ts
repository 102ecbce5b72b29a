// Completes, every CUT_OFF_RETRY_INTERVAL seconds, the cut-offs whose revocation failed after their
// change was committed (src/security/cut-off.ts): the admin call that made one answered 503, or an
// import run exited 69, and nobody may repeat it. Without this, a reseller whose new password was
// saved during a token store outage would keep the tokens from before it until someone touched
// that access again; with it, they stop working at most one interval after the store is back.
// Every instance retries; completing is idempotent and the mark's version keeps concurrent
// completers correct. Registered on the admin app, so that one process retries once.
import fp from 'fastify-plugin';
import { createCutOffs } from '../../security/cut-off.js';

export default fp(
  async (fastify) => {
    const { services } = fastify;
    // The gauge counts what the retry is about to complete, so that it shows what stays stuck
    // while the store is down.
    const cutOffs = createCutOffs(services, { afterRead: async (pending) => services.metrics.cutOffsPending.set(pending.length) });
    const log = fastify.log.child({ task: 'cut-off-retry' });
    let running: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    // One line per distinct failure, not one per interval while the store stays down.
    let lastError = '';

    const retry = async (): Promise<void> => {
      try {
        const pending = await cutOffs.completePending();
        services.metrics.cutOffsPending.set(0);
        if (pending.length > 0) {
          log.info({ resellers: pending.map((c) => c.resellerId) }, 'pending cut-offs completed: their tokens are revoked');
          // Other instances drop what they cached about these clients (as the admin call would have).
          await services.events.publish('clients').catch(() => {});
        }
        lastError = '';
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== lastError) log.warn({ err: message }, 'pending cut-offs not completed yet; retrying');
        lastError = message;
      }
    };

    fastify.addHook('onReady', async () => {
      timer = setInterval(() => {
        running ??= retry().finally(() => {
          running = undefined;
        });
      }, services.config.cutOffRetryInterval * 1000);
      timer.unref();
    });
    fastify.addHook('onClose', async () => {
      clearInterval(timer);
      await running;
    });
  },
  { name: 'cut-off-retry', dependencies: ['services'] },
);
