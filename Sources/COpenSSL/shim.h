#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

/* Macros Swift cannot import, as constants. */
static const int COPENSSL_EVP_PKEY_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

/* Parameter names with static storage: OSSL_PARAM_BLD keeps the name pointers
 * until OSSL_PARAM_BLD_to_param, longer than a Swift string bridged for one call. */
static const char *const COPENSSL_PARAM_RSA_N = OSSL_PKEY_PARAM_RSA_N;
static const char *const COPENSSL_PARAM_RSA_E = OSSL_PKEY_PARAM_RSA_E;
static const char *const COPENSSL_PARAM_GROUP_NAME = OSSL_PKEY_PARAM_GROUP_NAME;
static const char *const COPENSSL_PARAM_PUB_KEY = OSSL_PKEY_PARAM_PUB_KEY;
