export {
  UnsafeNameError,
  isValidRunId,
  assertRunId,
  refNameProblem,
  isSafeRefName,
  assertSafeRefName,
  assertSafeRevision,
  slugify,
  shortRunId,
  branchNameForRun,
  assertInside,
  worktreeDirForRun,
  type BranchNameInput,
} from "./names.js";
export { GitCommandError, redactSecrets } from "./exec.js";
export { withRepoLock, withMutex, LockTimeoutError, REPOSITORY_LOCK_NAME, type RepositoryLock, type RepositoryLockOptions } from "./lock.js";
export {
  BranchCheckedOutError,
  listGitWorktrees,
  branchCommit,
  deleteBranch,
  pruneWorktrees,
  createWorktree,
  removeWorktree,
  sweepWorktreeDirs,
  dirSize,
  treeBytes,
  type WorktreeInfo,
  type CreateWorktreeInput,
  type CreatedWorktree,
  type RemoveWorktreeInput,
  type RemovedWorktree,
  type SweepInput,
  type SweepResult,
} from "./worktree.js";
export {
  RESULT_REF,
  createRunClone,
  forkPoint,
  fetchRunBundle,
  setBranch,
  objectDirsOf,
  isRunCloneOf,
  type RunClone,
  type RunCloneInput,
  type FetchBundleInput,
} from "./run-clone.js";
export {
  cloneForRun,
  pushBranch,
  fetchBranch,
  probeRemote,
  type FetchBranchInput,
  type CloneForRunInput,
  type ClonedRepo,
  type PushBranchInput,
  type ProbeRemoteInput,
  type RemoteProbe,
} from "./clone.js";
export {
  DEFAULT_AUTHOR,
  commitAll,
  diffAgainstBase,
  status,
  type GitIdentity,
  type CommitAllInput,
  type DiffInput,
  type DiffResult,
  type DiffStat,
  type FileChange,
  type FileChangeStatus,
  type StatusEntry,
  type CheckoutStatus,
} from "./changes.js";
export {
  MergeConflictError,
  BaseBranchMovedError,
  VerifiedStateMovedError,
  MissingBranchError,
  mergeRunBranch,
  mergeBaseIntoBranchForVerification,
  type MergeRunBranchInput,
  type MergeRunBranchResult,
  type CheckoutUpdate,
  type VerificationInput,
  type VerificationWorktree,
} from "./merge.js";
export { updateBranchFromBase, BranchMovedError, type UpdateFromBaseInput, type UpdateFromBaseResult } from "./update-from-base.js";
export { findMergeByTrailer, type FoundMerge } from "./merge-lookup.js";
export { previewMerge, type MergePreview } from "./merge-preview.js";
export { repositoryKey, repositoryTopLevel } from "./repository.js";
