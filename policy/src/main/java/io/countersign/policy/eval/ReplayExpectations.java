package io.countersign.policy.eval;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The changes a policy author expects a candidate policy to make, so that {@link Replay} can tell
 * them from surprises. One entry per line; blank lines and {@code #} comments are ignored:
 *
 * <pre>
 * # this exchange's decision is meant to change
 * ex-7f3a
 * # every exchange whose rule moves from the left to the right is expected to
 * crm.deal_update -&gt; crm.deal_discount_over_limit
 * # either side may be * (any rule); - stands for "no rule" (a fail-closed decision)
 * * -&gt; crm.deal_update_v2
 * </pre>
 */
public final class ReplayExpectations {
  private static final String ARROW = "->";

  private final Set<String> exchangeIds;
  private final List<RuleMove> moves;

  /** A rule-level expectation: exchanges whose deciding rule moves from {@code from} to {@code to}. */
  public record RuleMove(String from, String to) {
    boolean matches(String before, String after) {
      return side(from, before) && side(to, after);
    }

    private static boolean side(String pattern, String rule) {
      return pattern.equals("*") || pattern.equals(rule == null ? "-" : rule);
    }

    @Override
    public String toString() {
      return from + " " + ARROW + " " + to;
    }
  }

  private ReplayExpectations(Set<String> exchangeIds, List<RuleMove> moves) {
    this.exchangeIds = Set.copyOf(exchangeIds);
    this.moves = List.copyOf(moves);
  }

  /** Expects no change at all. */
  public static ReplayExpectations none() {
    return new ReplayExpectations(Set.of(), List.of());
  }

  /**
   * Parses an expectations file.
   *
   * @param source the file's name, for error messages
   * @param text the file's content
   * @throws IllegalArgumentException naming the file and line of a malformed entry
   */
  public static ReplayExpectations parse(String source, String text) {
    Set<String> ids = new LinkedHashSet<>();
    List<RuleMove> moves = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      int arrow = line.indexOf(ARROW);
      if (arrow >= 0) {
        String from = line.substring(0, arrow).strip();
        String to = line.substring(arrow + ARROW.length()).strip();
        if (from.isEmpty() || to.isEmpty() || from.contains(" ") || to.contains(" ") || to.contains(ARROW)) {
          throw new IllegalArgumentException(
              source + ":" + (i + 1) + ": expected 'RULE -> RULE' (either side may be *), got '" + lines[i].strip() + "'");
        }
        moves.add(new RuleMove(from, to));
      } else if (line.contains(" ")) {
        throw new IllegalArgumentException(
            source + ":" + (i + 1) + ": expected an exchange id or 'RULE -> RULE', got '" + lines[i].strip() + "'");
      } else {
        ids.add(line);
      }
    }
    return new ReplayExpectations(ids, moves);
  }

  /** The exchange ids listed. */
  public Set<String> exchangeIds() {
    return exchangeIds;
  }

  /** The rule-level expectations listed. */
  public List<RuleMove> ruleMoves() {
    return moves;
  }

  /** Why this change is expected ({@code exchange id} or the matching rule move), or null. */
  String explain(String exchangeId, DecisionSummary before, DecisionSummary after) {
    Objects.requireNonNull(exchangeId, "exchangeId");
    if (exchangeIds.contains(exchangeId)) {
      return "exchange id";
    }
    for (RuleMove m : moves) {
      if (m.matches(before.rule(), after.rule())) {
        return m.toString();
      }
    }
    return null;
  }
}
