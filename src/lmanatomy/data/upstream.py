"""Where every upstream file comes from: a pinned URL and its sha256 (the download table).

Paths are relative to a data root laid out like the upstream releases (``data/raw`` when the
workflow downloads, ``data/demo`` or ``../shared/data`` when a config points at a folder). A URL
is pinned to a full commit wherever upstream is a repository; sha256 values were computed from
the files in ``../shared/data``, which are byte-identical to those commits (checked against the
repositories' git blob ids). Where no copy could be hashed here (PAWS-X, JNLI train, the BoolQ
train file, SIQA, HellaSwag, C4, WikiText-2), ``sha256`` is ``None``: the first download records
the hash it saw next to the file (trust on first use), later downloads and reads must match it,
and a prepared dataset's metadata says the hash was not pinned. Where the upstream repository's
git blob id of such a file is known, the download also checks it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    """One file of a data root: where to get it and what its bytes must hash to.

    Either ``url`` (downloaded as is) or ``archive`` + ``member`` (unpacked from another entry,
    an archive that is itself downloaded) is set.
    """

    path: str
    url: str | None = None
    sha256: str | None = None
    git_blob: str | None = None
    archive: str | None = None
    member: str | None = None
    note: str = ""

    @property
    def pinned(self) -> bool:
        """True when the expected sha256 is written in this table (not trusted on first use)."""
        return self.sha256 is not None


JGLUE_COMMIT = (
    "28cfe195676a8b9c3e991a5f2aac05c6f87e2b3f"  # yahoojapan/JGLUE, the v1.1 files (= tag v1.1.0)
)
FLORES_DEV_COMMIT = "5649a0f7e3d246ed58ffaef865f8b818cd8e0044"  # genggui001/opencompass
FLORES_DEVTEST_COMMIT = "ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180"  # Helsinki-NLP/OPUS-MT-testsets
BOOLQ_COMMIT = "5d3c8009ab8f5adab4899c34dd203cbf7afcb372"  # FormulaMonks/llm-benchmarker-suite
HUMANEVAL_COMMIT = "6d43fb980f9fee3c892a914eda09951f772ad10d"  # openai/human-eval
MMLU_COMMIT = "785eba57b455b9f9be12a0d3c1106d67274fea0e"  # hendrycks/test
KNOWLEDGE_COMMIT = "aeda0cd349177ae29d837c5ea84a6941919cb916"  # tomokiariyama/knowledge-neuron-sim
HELLASWAG_COMMIT = "a29ff8e9a04bba4bd6588223785ce105328adc57"  # rowanz/hellaswag
# Hugging Face dataset revisions seen pinned in public code that downloads the same files; they
# could not be resolved from here, so these files are trusted on first use as well.
C4_REVISION = "1588ec454efa1a09f29cd18ddd04fe05fc8653a2"  # allenai/c4
# oborchers/Fast_Sentence_Embeddings, data/stsbenchmark (a copy)
STSB_COMMIT = "ae95f34cde0428b8f0d753cba4d32e62d1f845e9"
SICK_COMMIT = (
    "e1d3375f5b3bc24f21aa4e46f96eb379e9fc1081"  # brmson/dataset-sts, data/sts/sick2014 (a copy)
)
WIKITEXT_REVISION = "b08601e04326c79dfdd32d625aee71d232d685c3"  # Salesforce/wikitext
LANG_NEURON_COMMIT = (
    "033c7b177b90a7248dda10cb4c5775d67735d385"  # kojima-takeshi188/lang_neuron, the authors' texts
)

GITHUB = "https://raw.githubusercontent.com"

_JGLUE_SHA256 = {
    "jsts-v1.1/train-v1.1.json": "db6bd653270ac9786759920413a48973164d322998f34dd4ae32202af5e66969",
    "jsts-v1.1/valid-v1.1.json": "7c0bdcb381179f01096c635d058853d96da1e1248d23fe3f5c2beed5dc2d9b1a",
    "jnli-v1.1/train-v1.1.json": None,
    "jnli-v1.1/valid-v1.1.json": "39a41d5a112cc6c5baafa7d2464e579843e904a4b7206a4e905517a257f6459c",
    "jcommonsenseqa-v1.1/train-v1.1.json": (
        "9b55fae5ecb3aedd6f8ce5bc09196c3b629864668ec6c18eee4d65c0aa48229e"
    ),
    "jcommonsenseqa-v1.1/valid-v1.1.json": (
        "0d8d76f3bfa0d174866939882faccdd01fbc2bcd5a76c43748ba0c40a7b3b8d4"
    ),
}

_FLORES_SHA256 = {
    "dev/deu_Latn.dev": "12fac774c6f79d966774a1829648a6e107700662e9e7b9e31ad08541382b97aa",
    "dev/eng_Latn.dev": "51a25f527fd81f428b6933d85a2f5e5544af92aa82042c7fbf0c4120327fba0a",
    "dev/fra_Latn.dev": "7c1e1043b9d8cc6cb6fd4388ce068060f36518fd3597357a381cfdbe8ce5ab00",
    "dev/jpn_Jpan.dev": "17a422e2729f2eaecf7bf98aea70e3e72b8cac8acd72547d6ec1ada07ff92f4f",
    "dev/spa_Latn.dev": "9a99ddc459542da2d980b21cc049e799172545938cb02a5e7c92ebd8234b2121",
    "dev/zho_Hans.dev": "ae677073476a27d6d11db642df5c18b86ca5dfcbbeefeba7d99ec93b7f5bd177",
    "devtest/deu_Latn.devtest": "9a1bfa90d153fedb7ff80047f4a63d493998888eddb056e8a28e24592f26e5f2",
    "devtest/eng_Latn.devtest": "612e9fbe87997617c0fa8fa8929654a4f49b728d96738112c2b86ef6a1d78d88",
    "devtest/fra_Latn.devtest": "82f5b000db419ef9254eea7857cce82943b361090942f17ed696e3dce2944f42",
    "devtest/jpn_Jpan.devtest": "36b8e392ae9404a20e8448c731d16d957ac1b94588d97fb691128ae706b63606",
    "devtest/spa_Latn.devtest": "40fcb836b49b0a461a14c00b8bce1f03113f8d2668132af424e74b2421d18ce9",
    "devtest/zho_Hans.devtest": "b30158b1b76f7cee08530d8127a9769f4512597c7eefe97ae1ccf630d5b6e7fd",
}

# hendrycks/test data/{dev,val,test}/<subject>_<split>.csv: sha256 of (dev, val, test).
MMLU_SHA256: dict[str, tuple[str, str, str]] = {
    "abstract_algebra": (
        "bd8c73f3c75bea9db82d281d9da6949cea687b987dba24a142c638e758046624",
        "ab0c6d19c4523969ec7b553ed49adecdb9cc00decc76c26c56c42ba198d8047c",
        "4be89c0fb1d2419722e88880f6da3da95750367185ecd36f6492a6f74785cf64",
    ),
    "anatomy": (
        "0985685cf5ab13ccc1629f03a1308a9add8767582ffeb195b68b18c3415c9993",
        "09e9959486ebf3643e4ecbf173a77b029c6f08665ab8f89daf99399956f26b8e",
        "966dfd5c4579885ebdb8c05d6754ae5834f672632586d8595be3c0f9360e6f4e",
    ),
    "astronomy": (
        "bb03eca519a3fbc04017dc4783635763ac928f0811ce6243dbcbf0d526dbe1e3",
        "3dbe51f827890dd079e04c8ab024c5a2a7829033cd16913744af99f7b3a46328",
        "87c9c3cb5a55395c70dd9ed521dd7d2629fd4ff236c5ab647102e007f52a9341",
    ),
    "business_ethics": (
        "7cd487e4ba7d9fe423bcc259ad852e963dc370629b8d61881b61ed0ae84c0b46",
        "929daf023cce06fa7558595ff8c329a3c9211693f8a46977997435da52876cc3",
        "cd3fc3a85a34cb17e6c5b2fb68ea61e7800b31120d92934019f1e17f4832fbd4",
    ),
    "clinical_knowledge": (
        "a82e8b10da8168f8fe9f7315165e6e87a4b3bebe91f6445b9aafbefb162cc531",
        "aa4a98fac4cb6c0ed219d44ef46a6aa9e8d56b0a62046bb220b836dbee4ff6a7",
        "d7c23fd4e75d0a99f042a5d55221ba8465ffc9c9042bc4c30bb07f45d2199dac",
    ),
    "college_biology": (
        "31f4ae0707ba3f742e0d5546ff970949be8a05e217921fe87b1814d6a0ab8184",
        "f624eaf75ee2add75a9f2b189bb703e0a2591981d45c60bb5f9dcd9bfe168456",
        "e1204cb9d19887ea266145f038b5d4cc1fbc33d7efce186259c4ecca1cbe3119",
    ),
    "college_chemistry": (
        "9ba27ba571b8ad40d35a2a88a60acf434ca5f37962c2eba8f9d0aa89edb4c1c7",
        "351cf8c4d1ea2c6cd5d521593b2cd592477a13a284871b681f0785cd2dddf6bb",
        "4d61d7887f845b887c52ac928b6dffdcf2468d79f3d0fbb4d1731092a51d2552",
    ),
    "college_computer_science": (
        "fc1a43187cd68390d663e0a1849688b13a4cd75ab17616558f4e584a4a8ae2bd",
        "4f7a08808c39218f0a8a8b945cadcc40dbf3d254962e620f7dccdea8a0596259",
        "d53a1d0d1c4362dacf92a4ff1d6a755beb5a87f24a7301c3c4391fcacc6530b4",
    ),
    "college_mathematics": (
        "27731ee1402e720ee01ad6fa6a969a0d0978a0e9b4c385d328a61869a43f321f",
        "12621b0f192fe8773cac843c5bdc4777cc81d66b31c41188a3096e20dde143f8",
        "8b5bef14d4209c7918eaf947e4f12a5ae9470567722d8ba9761302d733e8ac71",
    ),
    "college_medicine": (
        "63928a944fda769d7e52a3a4549d4f37f094896e65e7db35029261e1ae79909b",
        "9a490f6aaeb2e7c15cc8ce4c5745ff449568971ac447c4aa616858f7f4dcef35",
        "9c533cfff89edaa317b2e79bbabcdd5e2e522e019679cb4a6475e5f2a1861b1e",
    ),
    "college_physics": (
        "6e043d6c566091c5ad1d8bc1d002900e1aa0bff114f98d5e3f2e4f645efce100",
        "55c80f8fdd225c5ff57ab952d583fa5f20ac719e2432e9062fd5fb00e4abe42e",
        "079c3696eda22c13b0472de245c7bb4918315b59481964109a4f65d2a35b4243",
    ),
    "computer_security": (
        "09e276300dbd2d07906dbe4ff82aabf45b9765f933eb7d0f35ea3ea97dee8020",
        "52faa1f86a4fa029d1953443ac636c359c9487efa1259d6212ea052018bc1582",
        "8e40f809858db9dd8585036b53984e570b6101f72be2214b85e979c7fafa307f",
    ),
    "conceptual_physics": (
        "5e65be1f6fdd82f4887e3747af790a747191b1b732dd2bea76306388d5ee3719",
        "dba647511d25b8defe1325268913d5b5853f3692af104176b88948bf89f06b95",
        "7b39a241bb20424fd2a4e0e37ce05d94865ffc44191d8be4063be0e973312256",
    ),
    "econometrics": (
        "7a01a925199c246decd0f1fc7a1b8dc28136b19d793e5b1e0d97142c118a2940",
        "062b8b3ae560c7bf1bde9fb64958949ce74093eec3761dc3227e6e777168aaf1",
        "10eb6b2d3a519a463872ef75902991b51ebf45865b29888e86d40228ace24029",
    ),
    "electrical_engineering": (
        "5aad11b1d1c8dc1a431c3e79a047cba56d691a60403ddffaf5fbd45e9c82bc0d",
        "31462254765b0525942d28da430d168dc012c64fd63140ee7c4d1cb42ebea6f5",
        "8b0d747a97cb2cbbd8926c8deb2cda6073da6d5d3cc099693aa7761be938f5e4",
    ),
    "elementary_mathematics": (
        "9aca9cd215b7c170020fd5f7db1c9c3d5cbf6df9ee7b970a4810649a87245011",
        "a3bfebe71e8dddf47d8eb36800ce97adfdca34c3a419941b36acf8bea8afe637",
        "50aca74e92c6ffa50ada650f9b14af333490ea7c6649c73ccde48b78051dc27c",
    ),
    "formal_logic": (
        "e4b579358ed4878f6c91bfea0ccc51efdd15a28401f86da9ee8f6c0af37cf36d",
        "306d64079d5a16516470cc059e8e313abc06ceeec8c1131af582e30fb6f21667",
        "bc2dc7373a664ae72e166dcbe3f7aaf1bb65b99f106f1831f335c53467f35248",
    ),
    "global_facts": (
        "8090f53567366b64ee6d23b6f73753421ea6d38780e0e3ca3f856bfa76031c86",
        "8bab486afff4f69b25fe96065f6a04e34375ae4bb1333cdd8a7d321e37d1f398",
        "84d6bcd165fba01327a8c5503239da9a00b7bd8a1b48db61d5774de29ee823aa",
    ),
    "high_school_biology": (
        "6a200085c150794846d4bab43bb0e22ceec9f99576dfc25f5c5d8faa9595ae13",
        "3458797fd751675cca19618b834ec17ed1eac464bdd1303a56602b764a01a765",
        "cfaba2b58b9714d2a6983a90bce17f14cc44cfc8195b20f8f65fef70d21331b9",
    ),
    "high_school_chemistry": (
        "1ba44aeea98ca22342b6525a3a9ebb62003b2a8289fa42d7c844e2139557ec5b",
        "ed0c2c9846a709332f679a14dc0f99b68d61b6161e7f86aaf9012a11f9617e3b",
        "15171de0d3bb730b348736625e34d564c34ff7d790a77e93f9bcd8d332ab63d5",
    ),
    "high_school_computer_science": (
        "5de3800dfbbfaa89050413a765deaf774fdb0611e370951383fb50fac774663e",
        "30a37702271777a18c2d09138ea41388bacccd317d8a8ff7c3f9b2ad5da24e63",
        "c203732c6ea575e14ef54d6fbc91a5fe87b958c6a6e0b035038e6c65baff6e88",
    ),
    "high_school_european_history": (
        "a3677065cf51abc32901cdcf88ed64121f5595e3a5a67f86ae2570f866fe87c5",
        "82f2bbbf8148f3c7bfe8936278f8b3713686b5aa0bba43cadf4f59b7f8d192f2",
        "09983655452c3c40ba466050ec82252f02a235e5946734f4d73b73688fc9509b",
    ),
    "high_school_geography": (
        "e43fc27b9fa8b808773a2871007b39e012a1cc1ec902f85d85cc9c27cc12883d",
        "94444fda55747826967db7d9eb4a977edc34a64c0cdf2a8e865c382a8610d96b",
        "b59382702daeb29a5ff8e255d5a22a33775c79859defd089a1cd835e0949b3af",
    ),
    "high_school_government_and_politics": (
        "daf013a3eae04b5904e6a706cf0574df2c881e00d46a979cb34c6e2968ad1c90",
        "0fd2fd6ec975ed75c36eb6b826e4906ccdfa0275b915fa5b97499e6906a87777",
        "fbd7a89eb2c7806097e18b40950e44e0580e6f97cd151f01a216bb575c2d7903",
    ),
    "high_school_macroeconomics": (
        "23ed995071c47e627c4e6adbce63a9144920441abb7e69f8b4dfac5fdc4e402d",
        "3533d53f9f803657e25acd63fd98f2e24626008ff2fb793e2077feccd3d97f3c",
        "e60b488a00f908bed94e5ed46638506a203bab0763fc22d20a3bbf0d939f5d02",
    ),
    "high_school_mathematics": (
        "d7401d5cbad5ae697bfa480e35d85de8ebf1232589a3c59b010782ee49cbe18c",
        "233f0811fb852a080f52c9e9cb3ce7cfb76f54661dd6f8fddfdac6b8e2a989b2",
        "fe8f7a154834bba30947401ba37ea6c7afdcfba82ddc341c79b5d3016991d290",
    ),
    "high_school_microeconomics": (
        "a409b422561f1fb02e6d1bc044657cfff7779b13146edfd937d2573423c2c49b",
        "51a6993ff0e2de9dcfc1c292efa4f4d983fd2397d5a28453c075272b7ba698f8",
        "a250cc4976654e479cecdb7b66046ce2412df3e5e1b9c3d145ed344eae9a2256",
    ),
    "high_school_physics": (
        "d54598276e1761c8c849eda3e8ba6cb3eb0785b7944c5921af12a3af32bcf78d",
        "3861ace8d359bac8b8560481599212193d38120fc350082680d99ad2090eeb0e",
        "a217233b6c1f1aa703d3d1535de8eec218a55e5c1aee21d89ee9046a81fb9ff0",
    ),
    "high_school_psychology": (
        "cb1ae2b20c2a43f68e0c6cd6ec208c8cbbbefaee931f5f0dba1b7f4dda5e6482",
        "785e5c3e90eafb1cbeca4fd6c8d4d061d0358f5c4cdc5a916c77aa038cec0f9a",
        "88c33b6b0ade567d07b8b5b074effdb52f31d773541fd71e86cb0d85a8daf7bf",
    ),
    "high_school_statistics": (
        "5103d34343f7749a578a0f1a6b20bceb999ed07de27432f1a89d79161eadde22",
        "ee65f842e44b0f9ada3919f64459c9b6a7aec190a26be00e037289279574d63c",
        "d62843d2fd084d6af1c8a0a6491d0aa642c34a7a68476605b9b3db5841e63d3f",
    ),
    "high_school_us_history": (
        "028b3c81c7be1138ad50b4afa1835773788e4557426a40abfaf132b11edab541",
        "b28f9c1a3382cb1ccba85b70ed1a3f555a37b01788cc0b96f8be08a72b29d8b7",
        "0338dea3b11881be53c2208ae8dbb571c792c0dca6f0b36a352147c0be81625e",
    ),
    "high_school_world_history": (
        "b6e87a14718b0415241dfe10dd86605de5b6e5995fa57580e9e2d7c56fe147a1",
        "7ba62c498d5bbe64423f6dca9db97b8240b87aee8a8559cafe5bca0e8b82fd4b",
        "7787343ae18e4e1ef833c8630c0c914c62f42c2f35d8b90f4bec2eecccfc161e",
    ),
    "human_aging": (
        "c2667f1f98c7e63a0693d9a1bf09065d21b9e499087d396aeca0fafebbf752d2",
        "5f4e2e4eebf704c4f19a6b54e58570b5f7d3928bedc807a24ff95dc296431de0",
        "01299d7e0ae4a8d082daeecc140445ce7393b464040bd810b0a60a370ae5502e",
    ),
    "human_sexuality": (
        "0da7f8f7aeb6d5a08f0413489aa5d5b84ff8ac971952ea66242762f779cb6794",
        "4f4c7b8766ade90e46218fda72146b10bc80dbf94d4b741804267a93a664af4c",
        "befe44cd6db2b4c759acce66dfcbbc5e959bbbcfc8aca0096bb09549653c06c8",
    ),
    "international_law": (
        "6f7f1c0191c0bcfe195d0ed39942a605012967a04d855c6482dc7e7a9f95e4d8",
        "627a60c75899197670999963d6a2814b2bc7b4f7afc176a6bd665a0a2289a18a",
        "51b3a6d74cc84651b2355d2823c30d993015ddfe8ef39725da4e0442f29489fc",
    ),
    "jurisprudence": (
        "27533d974102031088bc5c47fc008538ab3d08ca75e127fb64ff04cdd1562da2",
        "a54d080420bbdb866fb18ff9eb6e8eb524df0dc1d25724997f73ac860fd3c8ec",
        "bf7a770aebfbdb181abc2c26ffd7a01ab31f93c7e2dfe6924c57c7bca4a0dff6",
    ),
    "logical_fallacies": (
        "4de026c2d116c381dcc1b65e91a28ba3d124398f920b0f3904ec5b641deb28f4",
        "35820dc5ddf469d073691f4634edb87955902dd4d90b45f62f848ccd88dc4817",
        "3fe8b48c74832525556455d49960cc0c3cff37496783348043ff69a1863c2244",
    ),
    "machine_learning": (
        "7870177516ff1958ca6f8eaec855c74b14078eafde8c0c5480c7f9eb7f3b8551",
        "23ea00a670424f7f7f54c3d32a04f470983234ffa7c6356eab8f4f7c6150fce4",
        "b579bd7dfc9319cd8810a723c8e662afbab810fe64d775fc57ec24cfb55b3af1",
    ),
    "management": (
        "f75224958ab245d86c335d6886f8689247a9f83691ad63bb7ef3196641be9e52",
        "73f1407eedac9d6b02494b8e5292daa905993ed086883b56f4f0e52aea0e61bc",
        "4a535a11bb480a09a302e86d157ae2d33e054cfa00e4265fe300a9408b87ec6b",
    ),
    "marketing": (
        "15b3cf450ebc11e122886a5bad41e78260228259fa184eaa4ba566bdf37f0315",
        "521b52fd9be14088e8b3194088edd4de306e960d4a15558a0b0ea5f074ab158c",
        "ecf0ae0ae906194d033ca7d7746eaf201232eccb78ee24147e737473f751233d",
    ),
    "medical_genetics": (
        "70cd9ff940bef360693eeb4e05b5b8e53ad75a81d6b74a784222d4cae6dcb896",
        "03d44b759f35da638d7432bb7f050cc0bc5886497285980e91d387fe23478d6a",
        "4cf70b253e326ee5bcff6e14091765c64003c0d853a58dbc6a5737281356766d",
    ),
    "miscellaneous": (
        "72f74676c37fe477720d8b55e84517bd21daf1fe24f99dd33f1b0a636d31782e",
        "bb746ae23c45b8c80b5f996fd6ee71dbf9795f3f2bfa3a41f797289ef0e3d1d0",
        "f850dd48e37a545cef57741206598de71e2b2f6b008c8c7a51a4530987ae3ee7",
    ),
    "moral_disputes": (
        "b3eddc16d4328c766b5d8aea52b8bae2fdcd64ed2f307a5c758790f84fcf3453",
        "941826c9761dade3ebfb3a6a9c18e36994c3fcff2b10ffbe8830cf41b9e6cad0",
        "673f5e9054f55fc5e165a3ed01e1b13eb1ee5a3405055818b50532e05de9bfdd",
    ),
    "moral_scenarios": (
        "1c04ba888a302e9526147d85415979f818683d7551dbef609f6e7fc8aadb43ca",
        "082412ba7550eb905b1640d272f49311062e1a29d2e8b05209be6316aee25a9e",
        "39599417ee0e5eabaca8c4686afc9ba7d0e34f858bce580caa59ee34b264af0a",
    ),
    "nutrition": (
        "6c51e76e5adbbdf1c42e9af9c1af025e82d5682957a7c726976e695b79234110",
        "50a18a7a16ce33c9574b035a7f3229bfb03645562142b5d99fe932ba6599ff8c",
        "b5ef9739b7846733797f73f2cc67715d41160719e8846e0d529a61f2d6d659d0",
    ),
    "philosophy": (
        "587be220837bbe089702aa27cda03fbf72a7b959a9a4425e70d598026614cf11",
        "e190e2653bf42254783e4ed04d8016e5aedcb050a4496d3de0d737f84c79755a",
        "a0f0c6fc9e4f08c04ff3a339996c4ed688a9fbe75d205fff4b9d3549fb49fa1e",
    ),
    "prehistory": (
        "b20f0b1823fe00e7e2ee9f7378be8cb612a61a0d7bf0c97dad0f4201e495bf3b",
        "08d0748aa24b77a3ca1e95897d6c77585c728b098a5a91501015552f1f331086",
        "8d44938332ea3d199cfa51a18ef69af972aa33ca4af7b5f5bc62e768a31f949a",
    ),
    "professional_accounting": (
        "efc070ed71676829c67497542e3571f50a868036a17f93d00a56a4f85767ae0d",
        "865b30e9a3c8dedbcedf9f50ac290571a729e1c7968485b203d328e55bbf6dca",
        "a0960b00b979aec320d8e74e1492683df5709000decc4752a67792fe66f8478a",
    ),
    "professional_law": (
        "15d8589900ccf4725e1bad17837d48cc18c8bf033cd9b5d6bacf28a2a8f1064f",
        "175350a6b9a39a1f3118b3d700068f06ea1b59fa361d40f719fc3769c3e01601",
        "1bb6dd95b4b6480ca815ee31102e9636fc5634062d27cefb48ca2b1d382abce8",
    ),
    "professional_medicine": (
        "486456d578890d4700dd8044ac236c8ac2ee3389e35fc81ac37529f4f4487785",
        "8ccce8d3ca49f2a8ff645a12151ec36f4d567b53bf146bcefcb44c993efd7392",
        "d6cb72e2238d5a3885ee28c6194bf62fff9c2799f9aabeac8aec3b89f122d438",
    ),
    "professional_psychology": (
        "222e690db42dfb217a7c56a6ac693b73cf0168e344d75f28618c62ad9d2c0261",
        "ef9cac4327293305ab3becdd4e8bc7ddeb56c3e43766ef4c9b8f506a3a69107c",
        "322b8268bf89d9bac278120a0a11e5992b329797b4afe3d76bdd4fb847a94b31",
    ),
    "public_relations": (
        "8895f665f4c696ae76d34210546d0ab4b21b79d2fd8534cd2e8002e8ed0969dc",
        "7acad9ec286d30324ecec4888789abf73903d8e3222cef8650e7f294310a7957",
        "836cceb16b257c344e11f7ebee4e889284273eda5e0c6bdcb124cffa9dbb0673",
    ),
    "security_studies": (
        "007576f989b0badbf87423a444433099ee98438380e8a41c141d51c85d5abccf",
        "5287f8757b00302ebcfddfe6c510e06a21c3b697e17cdefe40dfe180a619c6ca",
        "ab7634702670ee0d5e98b852f5bcfad2821ff9a2e909d223de05422c948f6638",
    ),
    "sociology": (
        "2e2bb34b4cabdc50e2c43097d1cfe91560224f9e1224adc19a01e922d1c49414",
        "593bf2643ee40f288dc1104fe2994ec343e7db0f11970a9d449220daf4b38846",
        "f6c464600032aa2bb53294ad53217fbb650601eee206af947b3ce4c587ff5bed",
    ),
    "us_foreign_policy": (
        "3a9677a89fd67c3a891671a2a6a14ff69ab37bdd54fb687c2f8334c8a3fa1543",
        "c427b2d9da8929924583eb4d6a32956d112cb9c43448225833c0d581a25ca1df",
        "2821ee009a2b1b7d4adc5a212a0bad7fe05d377455de0fe0841beab8f00142e1",
    ),
    "virology": (
        "2a95551a16fc9538d98e1c79ab0ba53c40562158e6d05e9c42f7fdbeae8379bd",
        "bfd8a9560123c397d4697333b59e1230b4154c466c9361530381434e2c6fd401",
        "4355b9d79142da0e44a767a495a277733fd89ad67236cbbe3f42ff3a6d46b483",
    ),
    "world_religions": (
        "985f2091ed0cf0340b4a191ce941bc7b1bef6f0614b852eb4cbc0dd236ae95f3",
        "4352332375435709451e5782ede6700752db0b289602e572927d30ee0289125f",
        "3be96b2465419289c4fe0c8a0d003003facd243c8982c6daafc6ac90a40bd507",
    ),
}
MMLU_SUBJECTS: tuple[str, ...] = tuple(MMLU_SHA256)

# Kojima et al. 2024's own texts, assets/Language/sense/<lang>.json: (git blob, sha256), both
# computed here from the repository's objects at LANG_NEURON_COMMIT (unchanged at its newest
# commit 5ce59ec66a6623d29d9dc1d27a4278733bd86656).
LANG_NEURON_FILES: dict[str, tuple[str, str]] = {
    "de": (
        "e789d0961c0c5238a801c5efd108cecd3405d40d",
        "55060bdf5fc402853410e07110f5e7b19b6da058208c36656f52bd4bc223c6f0",
    ),
    "en": (
        "f0465ad7d67846e1b5c28f8747634f8363bc1b48",
        "72293d7ead3c7dd4f74257d7874706776d731c8cdcbc8ae8c03bcd84ac08854d",
    ),
    "es": (
        "fe130a5deae987aeb16789c3d08398bbac3ebaae",
        "03dd879bbe9eb10a417327f0f776dd0394712b077e09b483baa394ed6f6f4c03",
    ),
    "fr": (
        "a4d1f821822488c12e8d8114d69d1e78dfc09580",
        "522a17147b86117c98d12fb355107e53d811ed2c6e23800ac33f23c7d8d7f8f1",
    ),
    "ja": (
        "e557ae99349f83725bb04b6096596b522c947d2d",
        "1e2405561d9ec21ce3a1b2c6b4b954824bcfb098293215aa737eca92da3b31e9",
    ),
    "zh": (
        "fe57f10dccf165dce0f53de76787ef8c63d73920",
        "41152280b0f7ee8b800c7c94838422115df41eafbc3b9306f0924018f7c4da91",
    ),
}
LANG_NEURON_DIR = "lang_neuron/assets/Language/sense"

PAWSX_LANGUAGES = (
    "de",
    "en",
    "es",
    "fr",
    "ja",
    "zh",
)  # PAWS-X also has ko, outside the papers' six


def _pawsx_file(lang: str, split: str) -> str:
    if split == "train":
        return "train.tsv" if lang == "en" else "translated_train.tsv"
    return f"{split}_2k.tsv"


def _entries() -> list[Upstream]:
    entries: list[Upstream] = []
    for rel, sha in _JGLUE_SHA256.items():
        entries.append(
            Upstream(
                f"jglue/{rel}",
                f"{GITHUB}/yahoojapan/JGLUE/{JGLUE_COMMIT}/datasets/{rel}",
                sha,
                git_blob="14d9948a80dc585cfd53eb358594b0722b937802" if sha is None else None,
                note=""
                if sha
                else "not in ../shared/data; the git blob id comes from the upstream repository",
            )
        )
    for rel, sha in _FLORES_SHA256.items():
        if rel.startswith("dev/"):
            url = (
                f"{GITHUB}/genggui001/opencompass/{FLORES_DEV_COMMIT}/data/flores200_dataset/{rel}"
            )
        else:
            url = (
                f"{GITHUB}/Helsinki-NLP/OPUS-MT-testsets/{FLORES_DEVTEST_COMMIT}/"
                f"datasets/facebook/flores/flores200_dataset/{rel}"
            )
        entries.append(
            Upstream(
                f"flores200/{rel}", url, sha, note="copy of the FLORES-200 release (NLLB Team)"
            )
        )
    pawsx_archive = "pawsx/x-final.tar.gz"
    entries.append(
        Upstream(
            pawsx_archive,
            "https://storage.googleapis.com/paws/pawsx/x-final.tar.gz",
            None,
            note=(
                "the PAWS-X release archive; a storage bucket, not a repository: not pinned, "
                "trusted on first use (no pinned copy found in any repository; docs/language.md)"
            ),
        )
    )
    for lang in PAWSX_LANGUAGES:
        for split in ("dev", "test", "train"):
            member = f"x-final/{lang}/{_pawsx_file(lang, split)}"
            entries.append(Upstream(f"pawsx/{member}", archive=pawsx_archive, member=member))
    for lang, (blob, sha) in LANG_NEURON_FILES.items():
        rel = f"assets/Language/sense/{lang}.json"
        entries.append(
            Upstream(
                f"lang_neuron/{rel}",
                f"{GITHUB}/kojima-takeshi188/lang_neuron/{LANG_NEURON_COMMIT}/{rel}",
                sha,
                git_blob=blob,
                note=(
                    "Kojima et al. 2024's own texts (500 positives, their PAWS-X + FLORES-200 "
                    "mix; 2,500 negatives)"
                ),
            )
        )
    entries.append(
        Upstream(
            "boolq/val.jsonl",
            f"{GITHUB}/FormulaMonks/llm-benchmarker-suite/{BOOLQ_COMMIT}/data/SuperGLUE/BoolQ/val.jsonl",
            "21acbfbd1e7908fddd9e626bc2a6101c5a5430bda3fbf74985b979af7a63b989",
            note="BoolQ dev in SuperGLUE format",
        )
    )
    entries.append(
        Upstream(
            "boolq/train.jsonl",
            "https://storage.googleapis.com/boolq/train.jsonl",
            None,
            note=(
                "the original BoolQ release (question/title/answer/passage); not pinned, trusted "
                "on first use"
            ),
        )
    )
    entries.append(
        Upstream(
            "humaneval/HumanEval.jsonl.gz",
            f"{GITHUB}/openai/human-eval/{HUMANEVAL_COMMIT}/data/HumanEval.jsonl.gz",
            "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
        )
    )
    for subject, hashes in MMLU_SHA256.items():
        for split, sha in zip(("dev", "val", "test"), hashes, strict=True):
            rel = f"data/{split}/{subject}_{split}.csv"
            entries.append(
                Upstream(f"mmlu/{rel}", f"{GITHUB}/hendrycks/test/{MMLU_COMMIT}/{rel}", sha)
            )
    entries.append(
        Upstream(
            "knowledge_questions/generated_data_1token.json",
            f"{GITHUB}/tomokiariyama/knowledge-neuron-sim/{KNOWLEDGE_COMMIT}/data/generated_data_1token.json",
            "302502ffb278a4b12a77a01bbbe366954ead625b4ba43a31fd7873e6c4b1035a",
        )
    )
    siqa_archive = "siqa/socialiqa-train-dev.zip"
    entries.append(
        Upstream(
            siqa_archive,
            "https://storage.googleapis.com/ai2-mosaic/public/socialiqa/socialiqa-train-dev.zip",
            None,
            note=(
                "the Social IQa release archive; a storage bucket: not pinned, trusted on first use"
            ),
        )
    )
    for split in ("train", "dev"):
        for name in (f"{split}.jsonl", f"{split}-labels.lst"):
            member = f"socialiqa-train-dev/{name}"
            entries.append(Upstream(f"siqa/{member}", archive=siqa_archive, member=member))
    for split, blob in (
        ("train", "1997e15fe638ef2aeec6993471159295cd75aab7"),
        ("val", "0f5ee25d72216f12317d5d8a7b92deafa423d81e"),
    ):
        entries.append(
            Upstream(
                f"hellaswag/hellaswag_{split}.jsonl",
                f"{GITHUB}/rowanz/hellaswag/{HELLASWAG_COMMIT}/data/hellaswag_{split}.jsonl",
                None,
                git_blob=blob,
                note=(
                    "too large to be copied here; the git blob id comes from the upstream "
                    "repository"
                ),
            )
        )
    for shard in ("c4-validation.00000-of-00008.json.gz", "c4-train.00000-of-01024.json.gz"):
        entries.append(
            Upstream(
                f"c4/en/{shard}",
                f"https://huggingface.co/datasets/allenai/c4/resolve/{C4_REVISION}/en/{shard}",
                None,
                note="first shard of the split only; not pinned, trusted on first use",
            )
        )
    for split in ("test", "validation", "train"):
        rel = f"wikitext-2-raw-v1/{split}-00000-of-00001.parquet"
        entries.append(
            Upstream(
                f"wikitext2/{rel}",
                f"https://huggingface.co/datasets/Salesforce/wikitext/resolve/{WIKITEXT_REVISION}/{rel}",
                None,
                note=(
                    "the Hugging Face Parquet copy of wikitext-2-raw-v1 (one raw line per row); "
                    "not pinned, trusted on first use"
                ),
            )
        )
    # sha256 of the blobs at the pinned commits (computed from the repositories' git objects here)
    for split, sha in (
        ("dev", "5d7e944d8b02734b07bfdb5df67db3420c64bed153fcaa1ba47ad03480cf4234"),
        ("test", "affe45928a66ee5a708531233c95b7dacbbdc57f974f002a3d32ea0180cf816a"),
        ("train", "0f71910b59aa1ad973c5897f0791f3b0965a92b8f82b1a95f3eea9f4162fda82"),
    ):
        entries.append(
            Upstream(
                f"stsbenchmark/sts-{split}.csv",
                f"{GITHUB}/oborchers/Fast_Sentence_Embeddings/{STSB_COMMIT}/data/stsbenchmark/sts-{split}.csv",
                sha,
                note=(
                    "copy of the STS Benchmark release (Cer et al. 2017); dev = the released "
                    "code's STS-B validation"
                ),
            )
        )
    for name, sha in (
        ("SICK_trial.txt", "5a88cfb62f8c6bd2a3cce0f2421ba2cb8c2be5ab4a800f6f01e2c64aafb7db56"),
        (
            "SICK_test_annotated.txt",
            "2b8aa806658d6fc23c6824c83776c2d4fee7556000817b5ec0f982861413b7d0",
        ),
        ("SICK_train.txt", "266cf8047149bd1d68138dd30439f3122bff30069740ac6705bb6197d9f1b48e"),
    ):
        entries.append(
            Upstream(
                f"sick2014/{name}",
                f"{GITHUB}/brmson/dataset-sts/{SICK_COMMIT}/data/sts/sick2014/{name}",
                sha,
                note=(
                    "copy of SICK (Marelli et al. 2014, CC BY-NC-SA 3.0); trial = the Hugging "
                    "Face 'sick' validation split"
                ),
            )
        )
    return entries


UPSTREAM: dict[str, Upstream] = {entry.path: entry for entry in _entries()}


def downloaded_paths() -> list[str]:
    """Paths fetched directly from a URL (files and archives)."""
    return sorted(path for path, entry in UPSTREAM.items() if entry.url is not None)


def unpacked_paths() -> list[str]:
    """Paths unpacked from a downloaded archive."""
    return sorted(path for path, entry in UPSTREAM.items() if entry.archive is not None)
