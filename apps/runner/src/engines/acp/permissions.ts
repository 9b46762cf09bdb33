/**
 * How an agent's permission request (`session/request_permission`) is answered. Today by
 * the profile's policy: `allow` picks the agent's "allow once" option (or any allow option),
 * `deny` its "reject once" option. Either way the decision is recorded as an
 * `agent.permission` event. This is the one place where a workflow's approvals (a person
 * answering from the run page) will plug in: ask, wait, and map the answer to an option here.
 */
import type { PermissionOption, RequestPermissionRequest, RequestPermissionResponse } from "@agentclientprotocol/sdk";
import type { AgentSpec, EngineEvent } from "../types.js";

function pick(options: PermissionOption[], kinds: PermissionOption["kind"][]): PermissionOption | undefined {
  for (const kind of kinds) {
    const found = options.find((o) => o.kind === kind);
    if (found) return found;
  }
  return undefined;
}

export function answerPermission(req: RequestPermissionRequest, policy: AgentSpec["permissions"], title: string, emit: (e: EngineEvent) => void, cancelled: boolean): RequestPermissionResponse {
  const toolCallId = req.toolCall.toolCallId;
  const shownTitle = req.toolCall.title ?? title;
  if (cancelled) {
    emit({ type: "agent.permission", payload: { toolCallId, title: shownTitle, decision: "cancelled", option: null } });
    return { outcome: { outcome: "cancelled" } };
  }
  const option = policy === "allow" ? pick(req.options, ["allow_once", "allow_always"]) : pick(req.options, ["reject_once", "reject_always"]);
  if (!option) {
    // An agent that offers no option of the kind wanted: the only safe answer is none.
    emit({ type: "agent.permission", payload: { toolCallId, title: shownTitle, decision: "cancelled", option: null } });
    return { outcome: { outcome: "cancelled" } };
  }
  emit({ type: "agent.permission", payload: { toolCallId, title: shownTitle, decision: policy === "allow" ? "allowed" : "denied", option: option.optionId } });
  return { outcome: { outcome: "selected", optionId: option.optionId } };
}
