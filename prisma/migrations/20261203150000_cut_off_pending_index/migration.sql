-- The pending cut-offs, which every instance looks for every CUT_OFF_RETRY_INTERVAL seconds: a
-- partial index holds only them (usually none), so the look-up costs nothing however many
-- resellers there are. Prisma's schema language has no partial indexes; schema.prisma says so.
CREATE INDEX "resellers_cut_off_pending_idx" ON "resellers" ("reseller_id") WHERE "cut_off_pending";
