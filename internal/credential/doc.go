// Package credential hashes and verifies passwords and checks them against a
// password policy.
//
// New passwords are hashed with Argon2id (OWASP parameters by default) and
// stored as PHC strings. Verify also accepts the hashes an administrator can
// import through the Okta-compatible Users API (credentials.password.hash):
// BCRYPT, SHA-512, SHA-256, SHA-1, MD5 and PBKDF2. Every imported hash reports
// needsRehash so the caller replaces it with Argon2id at the first successful
// sign-in; MD5 and SHA-1 are accepted only for that migration path.
//
// Hashing is CPU- and memory-bound (about 19 MiB and 15 ms per Argon2id hash),
// so a Hasher bounds the number of hashes in flight with a semaphore; callers
// queue (and can give up through their context) instead of exhausting memory.
//
// The package is domain code: it knows nothing of HTTP or storage.
package credential
