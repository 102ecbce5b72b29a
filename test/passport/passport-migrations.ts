// Passport's tables as laravel/passport's own migration files create them (database/migrations,
// 2016_06_01_00000{1..5}_*.php), column by column, for the layouts the import meets, and
// Laravel's default users table (2014_10_12_000000_create_users_table.php), rendered to MariaDB
// and PostgreSQL DDL the way Laravel's schema grammars render each Blueprint call.
//
//   v10.4.2, v11.10.6  $table->bigIncrements('id'), $table->unsignedBigInteger('client_id')
//   v12.3.0            $table->id(), $table->foreignId('client_id') (the same columns)
//   --uuids (10–12)    passport:install --uuids rewrites them to $table->uuid('id')->primary()
//                      and $table->uuid('client_id') (InstallCommand::configureUuids)
//   v13                uuid ids, nullableMorphs('owner'), grant_types and redirect_uris instead
//                      of password_client/personal_access_client/redirect, char(80) token ids
export const PASSPORT_LAYOUTS = ['v10.4.2', 'v11.10.6', 'v12.3.0', 'v12.3.0 --uuids', 'v13'] as const;
export type PassportLayoutName = (typeof PASSPORT_LAYOUTS)[number];

type Kind = 'increments' | 'uuid' | 'bigint' | 'string' | 'char' | 'text' | 'boolean' | 'datetime' | 'timestamp';
interface Column {
  name: string;
  kind: Kind;
  length?: number;
  nullable?: boolean;
  primary?: boolean;
  index?: boolean;
  unique?: boolean;
}

const col = (name: string, kind: Kind, more: Omit<Column, 'name' | 'kind'> = {}): Column => ({ name, kind, ...more });
const timestamps = [col('created_at', 'timestamp', { nullable: true }), col('updated_at', 'timestamp', { nullable: true })];

function tables(layout: PassportLayoutName): Record<string, Column[]> {
  const uuids = layout === 'v12.3.0 --uuids' || layout === 'v13';
  const id = uuids ? col('id', 'uuid', { primary: true }) : col('id', 'increments');
  const clientId = col('client_id', uuids ? 'uuid' : 'bigint', { index: layout === 'v13' });
  const tokenId = layout === 'v13' ? col('id', 'char', { length: 80, primary: true }) : col('id', 'string', { length: 100, primary: true });
  const users = [
    col('id', 'increments'),
    col('name', 'string'),
    col('email', 'string', { unique: true }),
    col('email_verified_at', 'timestamp', { nullable: true }),
    col('password', 'string'),
    col('remember_token', 'string', { length: 100, nullable: true }),
    ...timestamps,
  ];
  const accessTokens = [
    tokenId,
    col('user_id', 'bigint', { nullable: true, index: true }),
    clientId,
    col('name', 'string', { nullable: true }),
    col('scopes', 'text', { nullable: true }),
    col('revoked', 'boolean'),
    ...timestamps,
    col('expires_at', 'datetime', { nullable: true }),
  ];
  const refreshTokens = [
    tokenId,
    layout === 'v13' ? col('access_token_id', 'char', { length: 80, index: true }) : col('access_token_id', 'string', { length: 100, index: true }),
    col('revoked', 'boolean'),
    col('expires_at', 'datetime', { nullable: true }),
  ];
  if (layout === 'v13') {
    return {
      users,
      oauth_clients: [
        id,
        col('owner_type', 'string', { nullable: true, index: true }),
        col('owner_id', 'bigint', { nullable: true }),
        col('name', 'string'),
        col('secret', 'string', { nullable: true }),
        col('provider', 'string', { nullable: true }),
        col('redirect_uris', 'text'),
        col('grant_types', 'text'),
        col('revoked', 'boolean'),
        ...timestamps,
      ],
      oauth_access_tokens: accessTokens,
      oauth_refresh_tokens: refreshTokens,
    };
  }
  return {
    users,
    oauth_auth_codes: [
      col('id', 'string', { length: 100, primary: true }),
      col('user_id', 'bigint', { index: true }),
      clientId,
      col('scopes', 'text', { nullable: true }),
      col('revoked', 'boolean'),
      col('expires_at', 'datetime', { nullable: true }),
    ],
    oauth_access_tokens: accessTokens,
    oauth_refresh_tokens: refreshTokens,
    oauth_clients: [
      id,
      col('user_id', 'bigint', { nullable: true, index: true }),
      col('name', 'string'),
      col('secret', 'string', { length: 100, nullable: true }),
      col('provider', 'string', { nullable: true }),
      col('redirect', 'text'),
      col('personal_access_client', 'boolean'),
      col('password_client', 'boolean'),
      col('revoked', 'boolean'),
      ...timestamps,
    ],
    oauth_personal_access_clients: [col('id', 'increments'), clientId, ...timestamps],
  };
}

// Laravel's MySqlGrammar / PostgresGrammar type for each Blueprint column type.
const MYSQL: Record<Kind, (c: Column) => string> = {
  increments: () => 'bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY',
  uuid: () => 'char(36)',
  bigint: () => 'bigint unsigned',
  string: (c) => `varchar(${c.length ?? 255})`,
  char: (c) => `char(${c.length ?? 255})`,
  text: () => 'text',
  boolean: () => 'tinyint(1)',
  datetime: () => 'datetime',
  timestamp: () => 'timestamp',
};
const POSTGRES: Record<Kind, (c: Column) => string> = {
  increments: () => 'bigserial PRIMARY KEY',
  uuid: () => 'uuid',
  bigint: () => 'bigint',
  string: (c) => `varchar(${c.length ?? 255})`,
  char: (c) => `char(${c.length ?? 255})`,
  text: () => 'text',
  boolean: () => 'boolean',
  datetime: () => 'timestamp(0) without time zone',
  timestamp: () => 'timestamp(0) without time zone',
};

/** The CREATE TABLE (and CREATE INDEX) statements of `layout`, `;`-separated. */
export function passportDdl(layout: PassportLayoutName, dialect: 'mysql' | 'postgres'): string {
  const types = dialect === 'mysql' ? MYSQL : POSTGRES;
  const statements: string[] = [];
  for (const [table, columns] of Object.entries(tables(layout))) {
    const defs = columns.map((c) => {
      const nullability = c.kind === 'increments' ? '' : c.nullable ? ' NULL' : ' NOT NULL';
      return `${c.name} ${types[c.kind](c)}${nullability}${c.primary ? ' PRIMARY KEY' : ''}${c.unique ? ' UNIQUE' : ''}`;
    });
    statements.push(`CREATE TABLE ${table} (${defs.join(', ')})`);
    for (const c of columns.filter((c) => c.index)) statements.push(`CREATE INDEX ${table}_${c.name}_index ON ${table} (${c.name})`);
  }
  return `${statements.join(';\n')};`;
}
