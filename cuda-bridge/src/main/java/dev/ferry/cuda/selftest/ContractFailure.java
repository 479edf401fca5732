package dev.ferry.cuda.selftest;

/** A device contract check found behaviour that breaks the contract. */
public final class ContractFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ContractFailure(String message) {
        super(message);
    }
}
