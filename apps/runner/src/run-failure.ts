/**
 * A run that cannot go on, with the machine-readable reason the server records
 * (`errorReason`): hook_veto, setup_failed, timeout, worktree_failed, engine_error…
 */
export class RunFailure extends Error {
  override readonly name = "RunFailure";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
