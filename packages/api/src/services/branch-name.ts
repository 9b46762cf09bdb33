/**
 * The git branch of a run: readable, derived from the card title, and always a valid ref
 * (`git check-ref-format --branch`), whatever the title contains.
 */
export function branchNameForRun(runId: string, title: string): string {
  const slug = title
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
  const id = runId.replace(/[^a-z0-9]/gi, "").slice(-10).toLowerCase();
  return `agentboard/${slug ? `${slug}-` : ""}${id}`;
}
