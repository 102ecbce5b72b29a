// The ops CLI's commands, in the order `reseller-auth --help` lists them. One line per command.
import type { Command } from '../command.js';
import { importPassportCommand } from './import-passport.js';
import { migrate } from './migrate.js';
import { resellerConfigure } from './reseller-configure.js';
import { resellerDisable } from './reseller-disable.js';
import { resellerRotateSecret } from './reseller-rotate-secret.js';
import { resellerShow } from './reseller-show.js';
import { resourceServerCreate } from './resource-server-create.js';
import { resourceServerList } from './resource-server-list.js';
import { resourceServerRemove } from './resource-server-remove.js';

export const commands: readonly Command[] = [
  migrate,
  resellerConfigure,
  resellerShow,
  resellerRotateSecret,
  resellerDisable,
  resourceServerCreate,
  resourceServerList,
  resourceServerRemove,
  importPassportCommand,
];
