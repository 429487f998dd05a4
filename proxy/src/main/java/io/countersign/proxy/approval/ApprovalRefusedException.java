package io.countersign.proxy.approval;

/** An approve or deny call that is refused; carries the status and a stable code. */
public class ApprovalRefusedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String code;

  /**
   * @param status HTTP status for the caller
   * @param code stable error code, e.g. {@code self_approval}
   * @param message what was wrong
   */
  public ApprovalRefusedException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }
}
