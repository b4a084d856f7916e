/* The ceiling for `gatehouse bench`: OpenSSL's own verification through the
 * calls GatehouseCore makes (SHA-2 one-shot, then EVP_PKEY_verify on a context
 * prepared once; EVP_DigestVerify for Ed25519), with freshly generated keys and
 * nothing else: no base64, no JSON, no claims. Prints "NAME verifications/s". */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned char message[600]; /* about a JWS signing input */

static void digest_verify(const char *name, EVP_PKEY *key, double seconds) {
    unsigned char sig[512], digest[32];
    size_t sig_len = sizeof(sig);
    SHA256(message, sizeof(message), digest);
    EVP_PKEY_CTX *sign = EVP_PKEY_CTX_new(key, NULL);
    EVP_PKEY_sign_init(sign);
    EVP_PKEY_CTX_set_signature_md(sign, EVP_sha256());
    if (EVP_PKEY_sign(sign, sig, &sig_len, digest, sizeof(digest)) != 1) abort();
    EVP_PKEY_CTX *verify = EVP_PKEY_CTX_new(key, NULL);
    EVP_PKEY_verify_init(verify);
    EVP_PKEY_CTX_set_signature_md(verify, EVP_sha256());
    long n = 0;
    const double start = now();
    while (now() - start < seconds) {
        for (int i = 0; i < 100; ++i, ++n) {
            SHA256(message, sizeof(message), digest);
            if (EVP_PKEY_verify(verify, sig, sig_len, digest, sizeof(digest)) != 1) abort();
        }
    }
    printf("%s %.0f\n", name, n / (now() - start));
    EVP_PKEY_CTX_free(sign);
    EVP_PKEY_CTX_free(verify);
}

int main(int argc, char **argv) {
    const double seconds = argc > 1 ? atof(argv[1]) : 2;
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    digest_verify("RS256", rsa, seconds);
    digest_verify("ES256", ec, seconds);

    unsigned char sig[64];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, NULL, NULL, NULL, ed);
    if (EVP_DigestSign(ctx, sig, &sig_len, message, sizeof(message)) != 1) abort();
    long n = 0;
    const double start = now();
    while (now() - start < seconds) {
        for (int i = 0; i < 100; ++i, ++n) {
            EVP_MD_CTX_reset(ctx);
            EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, ed);
            if (EVP_DigestVerify(ctx, sig, sig_len, message, sizeof(message)) != 1) abort();
        }
    }
    printf("EdDSA %.0f\n", n / (now() - start));
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    return 0;
}
