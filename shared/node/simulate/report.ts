// The report moved to the core (pure, used by the renderer too); re-exported for the Node callers.
export * from '../../core/simulate/report';
