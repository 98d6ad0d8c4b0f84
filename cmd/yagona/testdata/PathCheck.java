import java.io.FileInputStream;
import java.security.Security;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

// PathCheck validates leaf <- issuing <- root with Java's PKIX validator,
// revocation on for every certificate of the path. Mode "default" is the
// JDK's own order (OCSP, then CRL distribution points), "ocsp" and "crl"
// use only one source. It prints VALID or INVALID with the index and
// reason; the Yagona interop test reads that line.
public class PathCheck {
    public static void main(String[] args) throws Exception {
        Security.setProperty("ocsp.enable", "true");
        System.setProperty("com.sun.security.enableCRLDP", "true");
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate root = load(cf, args[1]);
        X509Certificate issuing = load(cf, args[2]);
        X509Certificate leaf = load(cf, args[3]);
        CertPathValidator v = CertPathValidator.getInstance("PKIX");
        PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        p.setRevocationEnabled(true);
        if (!args[0].equals("default")) {
            PKIXRevocationChecker rc = (PKIXRevocationChecker) v.getRevocationChecker();
            if (args[0].equals("crl")) {
                rc.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
            } else {
                rc.setOptions(EnumSet.of(PKIXRevocationChecker.Option.NO_FALLBACK));
            }
            p.addCertPathChecker(rc);
        }
        CertPath path = cf.generateCertPath(List.of(leaf, issuing));
        try {
            v.validate(path, p);
            System.out.println("VALID");
        } catch (CertPathValidatorException e) {
            System.out.println("INVALID index " + e.getIndex() + " reason " + e.getReason() + ": " + e.getMessage());
        }
    }

    private static X509Certificate load(CertificateFactory cf, String file) throws Exception {
        try (FileInputStream in = new FileInputStream(file)) {
            return (X509Certificate) cf.generateCertificate(in);
        }
    }
}
