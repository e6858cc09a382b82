// A Deployment's rolling update, as its controller makes one: pods of the new revision are
// created while the pods that are not terminating number fewer than replicas + maxSurge, and
// pods of an old revision are deleted while those that are ready stay at least replicas -
// maxUnavailable (an old pod that is not ready goes first, at no cost). It acts on the kubelet's
// readiness of each pod, as the controller does (the Service's endpoints follow later).
import type { Pod } from './pod.js';

export interface Strategy {
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
}

export class Deployment {
  /** Every pod it made, terminating and exited ones included. */
  readonly pods: Pod[] = [];
  revision = 0;
  readonly #strategy: Strategy;
  readonly #create: (revision: number, index: number) => Pod;
  #wake: (() => void) | undefined;

  constructor(strategy: Strategy, create: (revision: number, index: number) => Pod) {
    if (strategy.maxSurge === 0 && strategy.maxUnavailable === 0) {
      throw new Error('maxSurge and maxUnavailable cannot both be 0');
    }
    this.#strategy = strategy;
    this.#create = create;
  }

  /** The pods not being deleted. */
  live(): Pod[] {
    return this.pods.filter((p) => p.deletedAt === undefined && p.result === undefined);
  }

  /** One pass of the controller. */
  #reconcile(): void {
    const { replicas, maxSurge, maxUnavailable } = this.#strategy;
    for (;;) {
      const live = this.live();
      const fresh = live.filter((p) => p.revision === this.revision);
      if (live.length < replicas + maxSurge && fresh.length < replicas) {
        const pod = this.#create(this.revision, this.pods.length);
        this.pods.push(pod);
        pod.on('ready', () => this.#wake?.());
        pod.on('exit', () => this.#wake?.());
        continue;
      }
      const old = live.filter((p) => p.revision !== this.revision);
      const ready = live.filter((p) => p.ready).length;
      const go = old.find((p) => !p.ready) ?? (ready - 1 >= replicas - maxUnavailable ? old[0] : undefined);
      if (go === undefined) return;
      void go.delete();
    }
  }

  #done(): boolean {
    const live = this.live();
    return (
      live.length === this.#strategy.replicas &&
      live.every((p) => p.revision === this.revision && p.ready) &&
      this.pods.every((p) => p.deletedAt === undefined || p.result !== undefined)
    );
  }

  /**
   * A new revision of the pod template (what `kubectl rollout restart` makes), rolled out:
   * resolves once its pods are all ready and every old pod has exited.
   */
  async rollout(timeoutMs: number): Promise<void> {
    this.revision++;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.#reconcile();
      if (this.#done()) return;
      if (Date.now() > deadline) {
        const state = this.pods.map(
          (p) =>
            `${p.name}: ${p.result ? 'exited' : p.deletedAt ? 'terminating' : p.ready ? 'ready' : 'not ready'}`,
        );
        throw new Error(
          `rollout of revision ${this.revision} not done in ${timeoutMs} ms: ${state.join(', ')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
