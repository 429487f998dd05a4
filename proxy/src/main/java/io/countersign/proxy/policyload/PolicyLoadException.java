package io.countersign.proxy.policyload;

/** A policy could not be loaded; the message names the file and line when OPA said them. */
public class PolicyLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With what went wrong. */
  public PolicyLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
