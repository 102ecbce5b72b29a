-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "passport_id" INTEGER,
ADD COLUMN     "passport_import" JSONB;

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "passport_id" INTEGER,
ADD COLUMN     "passport_import" JSONB;

-- CreateTable
CREATE TABLE "legacy_access_tokens" (
    "id" VARCHAR(100) NOT NULL,
    "client_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "scopes" TEXT[],
    "revoked" BOOLEAN NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "imported_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "legacy_access_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "legacy_refresh_tokens" (
    "id" VARCHAR(100) NOT NULL,
    "access_token_id" VARCHAR(100) NOT NULL,
    "revoked" BOOLEAN NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "used_at" TIMESTAMPTZ(3),
    "imported_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "legacy_refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "legacy_access_tokens_user_id_idx" ON "legacy_access_tokens"("user_id");

-- CreateIndex
CREATE INDEX "legacy_refresh_tokens_access_token_id_idx" ON "legacy_refresh_tokens"("access_token_id");

-- CreateIndex
CREATE UNIQUE INDEX "clients_passport_id_key" ON "clients"("passport_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_passport_id_key" ON "users"("passport_id");

