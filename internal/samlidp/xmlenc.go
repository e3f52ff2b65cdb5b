package samlidp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// encryptAssertion wraps a (possibly signed) assertion in a
// saml2:EncryptedAssertion following XML Encryption 1.1: an xenc:EncryptedData
// of Type Element whose ds:KeyInfo carries an xenc:EncryptedKey holding the
// content key wrapped for the SP certificate, and the ciphertext
// (GCM: 12-byte IV || ciphertext || 16-byte tag; CBC: 16-byte IV ||
// ciphertext padded per XML-Enc, last byte = pad length). This is data
// encryption, not signature crypto; signatures stay with goxmldsig.
func (idp *IdP) encryptAssertion(assertion *etree.Element, sp *ServiceProvider) (*etree.Element, error) {
	enc := sp.Encryption
	pub, ok := enc.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("samlidp: encryption certificate key is %T, not RSA", enc.Certificate.PublicKey)
	}
	plaintext, err := serialize(assertion.Copy(), false)
	if err != nil {
		return nil, fmt.Errorf("samlidp: serialize assertion: %w", err)
	}

	dataAlg := enc.DataAlgorithm
	if dataAlg == "" {
		dataAlg = AES256GCM
	}
	var keyLen int
	var algURI string
	switch dataAlg {
	case AES256GCM:
		keyLen, algURI = 32, AlgAES256GCM
	case AES128GCM:
		keyLen, algURI = 16, AlgAES128GCM
	case AES256CBC:
		keyLen, algURI = 32, AlgAES256CBC
	case AES128CBC:
		keyLen, algURI = 16, AlgAES128CBC
	default:
		return nil, fmt.Errorf("samlidp: unknown encryption algorithm %q", dataAlg)
	}
	key := make([]byte, keyLen)
	defer clear(key)
	if _, err := io.ReadFull(idp.rand, key); err != nil {
		return nil, fmt.Errorf("samlidp: content key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var cipherValue []byte
	switch dataAlg {
	case AES256GCM, AES128GCM:
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
		if _, err := io.ReadFull(idp.rand, nonce); err != nil {
			return nil, fmt.Errorf("samlidp: GCM IV: %w", err)
		}
		cipherValue = gcm.Seal(nonce, nonce, plaintext, nil)
	default:
		bs := block.BlockSize()
		pad := bs - len(plaintext)%bs
		padded := make([]byte, len(plaintext)+pad)
		copy(padded, plaintext)
		for i := len(plaintext); i < len(padded); i++ {
			padded[i] = byte(pad)
		}
		cipherValue = make([]byte, bs+len(padded))
		if _, err := io.ReadFull(idp.rand, cipherValue[:bs]); err != nil {
			return nil, fmt.Errorf("samlidp: CBC IV: %w", err)
		}
		cipher.NewCBCEncrypter(block, cipherValue[:bs]).CryptBlocks(cipherValue[bs:], padded)
	}

	var wrapped []byte
	var transportURI string
	switch enc.KeyTransport {
	case "", RSAOAEP:
		transportURI = AlgRSAOAEPMGF1P
		wrapped, err = rsa.EncryptOAEP(sha1.New(), idp.rand, pub, key, nil)
	case RSA15:
		if !sp.AllowLegacy {
			return nil, fmt.Errorf("samlidp: RSA_15 key transport requires the legacy option")
		}
		transportURI = AlgRSA15
		wrapped, err = rsa.EncryptPKCS1v15(idp.rand, pub, key) //nolint:staticcheck // legacy opt-in only
	default:
		return nil, fmt.Errorf("samlidp: unknown key transport %q", enc.KeyTransport)
	}
	if err != nil {
		return nil, fmt.Errorf("samlidp: wrap content key: %w", err)
	}
	dataID, err := idp.newID()
	if err != nil {
		return nil, err
	}
	keyID, err := idp.newID()
	if err != nil {
		return nil, err
	}

	ea := etree.NewElement("saml2:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml2", NSAssertion)
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", NSXMLEnc)
	ed.CreateAttr("Id", dataID)
	ed.CreateAttr("Type", NSXMLEnc+"Element")
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", algURI)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", NSDSig)
	ek := ki.CreateElement("xenc:EncryptedKey")
	ek.CreateAttr("Id", keyID)
	ek.CreateAttr("Recipient", sp.EntityID)
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", transportURI)
	if transportURI == AlgRSAOAEPMGF1P {
		em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", AlgDigestSHA1)
	}
	ek.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(enc.Certificate.Raw))
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(cipherValue))
	return ea, nil
}
