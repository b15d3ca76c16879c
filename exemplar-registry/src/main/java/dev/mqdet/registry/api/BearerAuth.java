package dev.mqdet.registry.api;

import dev.mqdet.registry.validation.FieldError;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Bearer-token checks for {@code /api/*}. Writes need the write token; reads need a token only when configured,
 * and then either the write token or the read token. Tokens are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, which takes the same time wherever the first difference is, and hashing first makes
 * the time independent of the presented token's length too.
 */
public final class BearerAuth {

    private final byte[] writeDigest;
    private final byte[] readDigest; // null: no separate read token
    private final boolean readsNeedToken;

    public BearerAuth(String writeToken, String readToken, boolean readsNeedToken) {
        this.writeDigest = sha256(writeToken);
        this.readDigest = readToken == null || readToken.isEmpty() ? null : sha256(readToken);
        this.readsNeedToken = readsNeedToken;
    }

    /** A before-handler: answers 401/403 with a problem and stops the request, or lets it through. */
    public void check(Context ctx) {
        HandlerType method = ctx.method();
        if (method == HandlerType.OPTIONS) {
            return; // CORS preflight carries no credentials; the CORS plugin answers it.
        }
        boolean write = method != HandlerType.GET && method != HandlerType.HEAD;
        if (!write && !readsNeedToken) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() == 7) {
            refuse(ctx, 401, "Unauthorized", "this request needs an Authorization: Bearer <token> header", "");
            return;
        }
        byte[] presented = sha256(header.substring(7).trim());
        boolean isWriteToken = MessageDigest.isEqual(presented, writeDigest);
        boolean isReadToken = readDigest != null && MessageDigest.isEqual(presented, readDigest);
        if (write && !isWriteToken) {
            if (isReadToken) {
                refuse(ctx, 403, "Forbidden", "the read token cannot change query sets", null);
            } else {
                refuse(ctx, 401, "Unauthorized", "the bearer token is not valid", ", error=\"invalid_token\"");
            }
        } else if (!write && !isWriteToken && !isReadToken) {
            refuse(ctx, 401, "Unauthorized", "the bearer token is not valid", ", error=\"invalid_token\"");
        }
    }

    /**
     * A before-handler for reads that show production data (live camera frames): when a read token is configured
     * they need it (or the write token), even where other reads are open.
     */
    public void checkSensitiveRead(Context ctx) {
        if (readDigest == null || readsNeedToken || ctx.method() == HandlerType.OPTIONS) {
            return; // no read token to ask for, or check() has asked already
        }
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() == 7) {
            refuse(ctx, 401, "Unauthorized", "live images need the read token: Authorization: Bearer <token>", "");
            return;
        }
        byte[] presented = sha256(header.substring(7).trim());
        if (!MessageDigest.isEqual(presented, writeDigest) && !MessageDigest.isEqual(presented, readDigest)) {
            refuse(ctx, 401, "Unauthorized", "the bearer token is not valid", ", error=\"invalid_token\"");
        }
    }

    private static void refuse(Context ctx, int status, String title, String detail, String challengeExtra) {
        if (challengeExtra != null) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"mqdet-registry\"" + challengeExtra);
        }
        Problems.write(ctx, status, title, detail, List.<FieldError>of());
        ctx.skipRemainingHandlers();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
