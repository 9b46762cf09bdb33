/** The server's rules for a card's title and labels (packages/api), said before a save. */
export const MAX_TITLE = 300;
export const LABEL_RULE = "a label is 1–64 letters, digits and . _ : - (no spaces)";
const LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;

export const isLabel = (label: string): boolean => LABEL.test(label);

/** What is wrong with the labels, naming each one the server would refuse; null when none. */
export function labelsProblem(labels: string[]): string | null {
  const bad = labels.filter((l) => !isLabel(l));
  if (bad.length === 0) return labels.length > 32 ? "at most 32 labels" : null;
  return `${bad.map((l) => `“${l}”`).join(", ")}: ${LABEL_RULE}`;
}

/** A title the server would refuse, said with its length; null when it is fine. */
export function titleProblem(title: string): string | null {
  const n = title.trim().length;
  if (n <= MAX_TITLE) return null;
  return `A title is at most ${MAX_TITLE} characters; this one has ${n.toLocaleString("en")}. Shorten it and put the rest in the description.`;
}
