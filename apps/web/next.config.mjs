// JavaScript rather than next.config.ts: the production server loads this at every start,
// and runs compiled JavaScript only.
/** @type {import("next").NextConfig} */
const config = {
  reactStrictMode: true,
  transpilePackages: ["@agentboard/api", "@agentboard/client"],
  poweredByHeader: false,
};

export default config;
