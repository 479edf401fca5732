package dev.ferry.cuda;

/** Direction of a copy over the host-device link. */
public enum CopyDirection {
    HOST_TO_DEVICE("H2D"),
    DEVICE_TO_HOST("D2H"),
    DEVICE_TO_DEVICE("D2D");

    private final String shortName;

    CopyDirection(String shortName) {
        this.shortName = shortName;
    }

    public String shortName() {
        return shortName;
    }
}
