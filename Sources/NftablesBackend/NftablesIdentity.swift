import PolicyLanguage

/// What conduit's table says it is, kept in the kernel as the comment of a small chain of its own (`identity`, never
/// jumped to): a re-declared table or chain keeps its old comment, while a chain can be deleted and re-added in
/// one transaction. The comment is compact (nft shows at most 128 characters) and carries no time stamp, so the nft
/// text and the artifact of one compile list identically:
/// `conduit 1.2.0; site riverside; gateway edge-1; compile 0123456789abcdef`.
public struct NftablesIdentity: Sendable, Equatable, CustomStringConvertible {
  /// The name of the chain whose comment holds the identity.
  public static let chainName = "identity"
  /// The longest comment written (nft's limit for comments, 128 with its NUL).
  public static let maximumCommentBytes = 127
  /// How many hex digits of the compile digest the comment keeps.
  public static let digestDigits = 16
  static let maximumCompilerBytes = 24
  static let maximumNameBytes = 30

  /// `conduit VERSION`, shortened to 24 bytes.
  public var compiler: String
  /// The site's name (shortened with a hash suffix beyond 30 bytes), or nil.
  public var site: String?
  /// The gateway's name (shortened likewise), or nil for a ruleset matching addresses only.
  public var gateway: String?
  /// The first 16 hex digits of the compile digest.
  public var compileDigestPrefix: String

  /// The identity of a compile: names shortened as the comment carries them.
  public init(compiler: String, site: String?, gateway: String?, compileDigest: String) {
    self.compiler = GeneratedName.utf8Prefix(Self.word(compiler), maximumBytes: Self.maximumCompilerBytes)
    self.site = site.map { GeneratedName.shortened(Self.word($0), toBytes: Self.maximumNameBytes) }
    self.gateway = gateway.map { GeneratedName.shortened(Self.word($0), toBytes: Self.maximumNameBytes) }
    compileDigestPrefix = String(compileDigest.prefix(Self.digestDigits))
  }

  /// Reads a comment written by `comment`; nil when it is not one.
  public init?(comment: String) {
    let fields = comment.split(separator: "; ", omittingEmptySubsequences: false).map(String.init)
    guard fields.count == 4, fields[0].hasPrefix("conduit "), fields[1].hasPrefix("site "),
      fields[2].hasPrefix("gateway "), fields[3].hasPrefix("compile ")
    else { return nil }
    let digest = String(fields[3].dropFirst("compile ".count))
    guard digest.utf8.count == Self.digestDigits, digest.utf8.allSatisfy({ Self.isLowerHex($0) }) else { return nil }
    compiler = fields[0]
    let site = String(fields[1].dropFirst("site ".count))
    let gateway = String(fields[2].dropFirst("gateway ".count))
    self.site = site == "-" ? nil : site
    self.gateway = gateway == "-" ? nil : gateway
    compileDigestPrefix = digest
  }

  /// The comment the identity chain carries.
  public var comment: String {
    "\(compiler); site \(site ?? "-"); gateway \(gateway ?? "-"); compile \(compileDigestPrefix)"
  }

  public var description: String { comment }

  /// Whether the compile digest `digest` (64 hex digits) is the one this identity names.
  public func names(compileDigest digest: String) -> Bool { digest.hasPrefix(compileDigestPrefix) }

  /// One word of the comment: what an nft string cannot carry, and `;`, replaced by `_`.
  private static func word(_ text: String) -> String {
    GeneratedName.replacing(NftablesString.sanitized(text)) { $0 != ";" }
  }

  private static func isLowerHex(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
  }
}
