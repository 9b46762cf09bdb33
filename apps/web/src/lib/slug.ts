/**
 * A workspace slug proposed from its name: lowercase ASCII letters, digits and dashes.
 * Accents are folded first, so "Ünïcode" becomes "unicode" rather than losing its letters.
 */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/g, "");
}
