import { refractor } from "refractor";
import jsx from "refractor/jsx";
import tsx from "refractor/tsx";
import docker from "refractor/docker";
import toml from "refractor/toml";

refractor.register(jsx);
refractor.register(tsx);
refractor.register(docker);
refractor.register(toml);

const BY_EXTENSION: Record<string, string> = {
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "jsx",
  json: "json",
  md: "markdown",
  css: "css",
  scss: "scss",
  less: "less",
  html: "markup",
  xml: "markup",
  svg: "markup",
  py: "python",
  rb: "ruby",
  go: "go",
  rs: "rust",
  java: "java",
  kt: "kotlin",
  swift: "swift",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  hpp: "cpp",
  cs: "csharp",
  php: "php",
  lua: "lua",
  pl: "perl",
  r: "r",
  sh: "bash",
  bash: "bash",
  zsh: "bash",
  yml: "yaml",
  yaml: "yaml",
  toml: "toml",
  ini: "ini",
  sql: "sql",
};

const BY_NAME: Record<string, string> = { Dockerfile: "docker", Makefile: "makefile" };

/** The highlighter language of a file, or null when we have no grammar for it. */
export function languageOf(path: string): string | null {
  const name = path.split("/").pop() ?? path;
  const lang = BY_NAME[name] ?? BY_EXTENSION[name.split(".").pop()?.toLowerCase() ?? ""];
  return lang && refractor.registered(lang) ? lang : null;
}

/**
 * react-diff-view wants refractor's older API, where `highlight` returned the node list;
 * refractor 5 returns a root node around it.
 */
export const diffHighlighter = {
  highlight: (code: string, language: string) => refractor.highlight(code, language).children,
};
