/**
 * The model a run actually used is on its record when the default applied: the engine says
 * which it used, the runner reports it, the server keeps it for a run that named none.
 */
import { startMessagesServer } from "@agentboard/testkit/messages-server";
import { testProviders } from "@agentboard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitForFinish, type Harness } from "./testing/harness.js";

const KEY = "sk-ant-model-test";

describe.each(testProviders)("the model used, on %s", (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(provider);
  });
  afterAll(() => h.close());

  it("records the runner's default on a run that named no model, and keeps a named one", async () => {
    const messages = await startMessagesServer({
      apiKey: KEY,
      script: [
        { text: "Done.", usage: { input_tokens: 10, output_tokens: 2 } },
        { text: "Done too.", usage: { input_tokens: 10, output_tokens: 2 } },
      ],
    });
    const runner = await h.startRunner({ anthropicApiKey: KEY, anthropicBaseUrl: messages.url, model: "claude-haiku-4-5" });
    try {
      const project = await h.project();
      const unnamed = await h.createRun(project, { engine: "anthropic", prompt: "Say done." });
      expect(unnamed.model).toBeNull();
      expect(await waitForFinish(h.admin, unnamed.id)).toMatchObject({ status: "succeeded", model: "claude-haiku-4-5" });
      const named = await h.createRun(project, { engine: "anthropic", model: "claude-sonnet-4-6", prompt: "Say done." });
      expect(await waitForFinish(h.admin, named.id)).toMatchObject({ status: "succeeded", model: "claude-sonnet-4-6" });
      // What the model server was asked for, in order.
      expect(messages.requests.map((r) => r.body.model)).toEqual(["claude-haiku-4-5", "claude-sonnet-4-6"]);
    } finally {
      await runner.stop(0);
      await messages.close();
    }
  });
});
