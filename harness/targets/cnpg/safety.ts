/**
 * Aiming: faults may only hit a kind cluster pgdrill made (context `kind-pgdrill-…`) or a context
 * the scenario names in allowContexts. A drill started with the wrong kubeconfig context must not
 * delete production pods. Checked when the scenario is validated and again before every fault.
 */
export const KIND_PREFIX = "pgdrill-";

export function isPgdrillKindContext(context: string): boolean {
  return context.startsWith(`kind-${KIND_PREFIX}`);
}

export function mayDisrupt(spec: { allowContexts: readonly string[] }, context: string): boolean {
  return isPgdrillKindContext(context) || spec.allowContexts.includes(context);
}
