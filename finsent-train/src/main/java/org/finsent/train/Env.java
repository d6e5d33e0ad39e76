package org.finsent.train;

/**
 * Environment variables as this module reads them. A system property {@code finsent.env.NAME} stands in for the
 * variable {@code NAME} (an empty value for an empty variable), so that in-process callers such as tests can run
 * with another environment than the JVM's.
 */
final class Env {
    static final String PROPERTY_PREFIX = "finsent.env.";

    private Env() {
    }

    /** The value of {@code name}: the {@code finsent.env.NAME} property if set, else the variable; null if neither. */
    static String get(String name) {
        String p = System.getProperty(PROPERTY_PREFIX + name);
        return p != null ? p : System.getenv(name);
    }

    /** {@link #get}, with blank values as null (unset). */
    static String nonBlank(String name) {
        String v = get(name);
        return v == null || v.isBlank() ? null : v;
    }
}
