import t from 'tap';
import { MemoryTokenStore } from '../../src/token-store/memory-token-store.js';
import { tokenStoreContract } from './token-store-contract.js';

tokenStoreContract(t, async () => new MemoryTokenStore());
