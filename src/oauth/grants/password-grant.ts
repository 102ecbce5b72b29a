// RFC 6749 §4.3 resource owner password credentials grant, in Passport's order: the scope is
// checked before any password work, and brute-force limits (§4.3.2) before verification.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { InvalidCredentialsError, InvalidRequestError } from '../../errors.js';
import type { AppClient, SavedToken } from '../token-model.js';
import { AppGrant } from './app-grant.js';

export class PasswordGrant extends AppGrant {
  async handle(request: OAuth2Server.Request, client: AppClient): Promise<SavedToken> {
    const { username, password } = request.body as Record<string, string | undefined>;
    if (!username) throw new InvalidRequestError('Check the `username` parameter');
    if (!password) throw new InvalidRequestError('Check the `password` parameter');
    const scope = await this.tokens.validateScope(null, client, this.getScope(request));
    const attempt = { username: username.toLowerCase(), clientId: client.id, ip: this.tokens.context.ip };
    const guard = this.tokens.loginGuard;
    await guard.assertAllowed(attempt);
    const user = await this.tokens.getUser(username, password, client).catch(async (err: unknown) => {
      // No outcome (the database failed): not a failed login, so it must not count as one.
      await guard.release(attempt).catch(() => {});
      throw err;
    });
    if (!user) {
      await guard.recordFailure(attempt);
      throw new InvalidCredentialsError();
    }
    // At once, one round trip (ioredis sends both in one write): the pair is saved whether or not
    // the success is recorded, and handed out only if both are. A pair nobody received is unusable.
    const [, saved] = await Promise.all([guard.recordSuccess(attempt), this.issue(client, user, scope)]);
    return saved;
  }
}
