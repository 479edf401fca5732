package dev.ferry.cuda;

/** No usable GPU; the message is the "no GPU: reason" line shown to the user. */
public final class DeviceUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DeviceUnavailableException(String message) {
        super(message);
    }
}
