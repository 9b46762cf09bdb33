import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  transpilePackages: ["@agentboard/api", "@agentboard/client"],
  poweredByHeader: false,
};

export default config;
