// The revocation invariant (docs/revocation.md) on the embedded defaults and on PostgreSQL + one
// Redis server with two instances; revocation-invariant-suite.ts says what is tried.
import t from 'tap';
import { eachBackend } from '../helper.js';
import { revocationInvariantSuite } from './revocation-invariant-suite.js';

eachBackend(t, (t, backend) => revocationInvariantSuite(t, backend));
