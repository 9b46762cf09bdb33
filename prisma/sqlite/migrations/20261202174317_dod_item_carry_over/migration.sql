-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_dod_items" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "run_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "required" BOOLEAN NOT NULL DEFAULT true,
    "check" TEXT,
    "auto_validate" BOOLEAN NOT NULL DEFAULT false,
    "carry_over" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "position" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "dod_items_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_dod_items" ("auto_validate", "check", "created_at", "id", "key", "position", "required", "run_id", "status", "title") SELECT "auto_validate", "check", "created_at", "id", "key", "position", "required", "run_id", "status", "title" FROM "dod_items";
DROP TABLE "dod_items";
ALTER TABLE "new_dod_items" RENAME TO "dod_items";
CREATE UNIQUE INDEX "dod_items_run_id_key_key" ON "dod_items"("run_id", "key");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
