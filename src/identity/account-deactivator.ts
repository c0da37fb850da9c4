/**
 * Deactivating an account (MSC4191 `org.matrix.account_deactivate`). The account page confirms
 * with the user (recent sign-in required) and calls this; the implementation (UserLifecycle) marks
 * the user deactivated and writes the outbox event that deactivates the user on the homeserver in
 * one transaction, then ends every session.
 */
export abstract class AccountDeactivator {
  abstract deactivate(userId: string, opts: { erase: boolean; actor: string }): Promise<void>;
}
