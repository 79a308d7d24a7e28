/**
 * How a Gate compares: its operators and the expression a scenario writes. A leaf, so result.ts
 * can name a gate's operator without reaching the metric names (gate/metrics.ts), which are read
 * from the targets' registry.
 */

export const GATE_OPERATORS = ["<=", ">=", "==", "!=", "<", ">"] as const;
export type GateOperator = (typeof GATE_OPERATORS)[number];

/** `">= 0.99"`, `"<30000"`, `"== 0"`. */
export const GATE_EXPRESSION = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/**
 * A gate expression for TypeScript users, with or without the space. As with durations the
 * compiler's `${number}` is looser than GATE_EXPRESSION (it lets "1e3" through); the runtime check
 * decides.
 */
export type GateExpression = `${GateOperator}${number}` | `${GateOperator} ${number}`;
