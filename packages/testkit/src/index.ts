export * from "./messages-server.js";
export * from "./databases.js";
export * from "./git.js";
export * from "./text.js";
