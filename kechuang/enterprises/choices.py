"""Code lists of the registry, with their sources (../shared/domain/qualification-rules.md)."""

from django.db import models


class Industry(models.TextChoices):
    """GB/T 4754-2017 国民经济行业分类, top-level sections (门类); Appendix B."""

    A = "A", "A 农、林、牧、渔业"
    B = "B", "B 采矿业"
    C = "C", "C 制造业"
    D = "D", "D 电力、热力、燃气及水生产和供应业"
    E = "E", "E 建筑业"
    F = "F", "F 批发和零售业"
    G = "G", "G 交通运输、仓储和邮政业"
    H = "H", "H 住宿和餐饮业"
    I = "I", "I 信息传输、软件和信息技术服务业"  # noqa: E741
    J = "J", "J 金融业"
    K = "K", "K 房地产业"
    L = "L", "L 租赁和商务服务业"
    M = "M", "M 科学研究和技术服务业"
    N = "N", "N 水利、环境和公共设施管理业"
    O = "O", "O 居民服务、修理和其他服务业"  # noqa: E741
    P = "P", "P 教育"
    Q = "Q", "Q 卫生和社会工作"
    R = "R", "R 文化、体育和娱乐业"
    S = "S", "S 公共管理、社会保障和社会组织"
    T = "T", "T 国际组织"


class HitechField(models.TextChoices):
    """《国家重点支持的高新技术领域》 first-level fields (国科发火〔2016〕32号 annex); Appendix A."""

    ELECTRONIC_INFORMATION = "01", "电子信息"
    BIO_MEDICINE = "02", "生物与新医药"
    AEROSPACE = "03", "航空航天"
    NEW_MATERIALS = "04", "新材料"
    HIGH_TECH_SERVICES = "05", "高技术服务"
    NEW_ENERGY = "06", "新能源与节能"
    RESOURCES_ENVIRONMENT = "07", "资源与环境"
    ADVANCED_MANUFACTURING = "08", "先进制造与自动化"


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", "存续"
    MOVED_OUT = "moved_out", "迁出"
    DEREGISTERED = "deregistered", "注销"


class ParkKind(models.TextChoices):
    HIGH_TECH_ZONE = "zone", "高新区园区"
    SUB_PARK = "sub_park", "分园/基地"
    CARRIER = "carrier", "孵化载体"


class IPType(models.TextChoices):
    """IP types; Class I/II per 国科发火〔2016〕195号 三(二) and 国科发政〔2017〕115号 第九条."""

    INVENTION = "invention", "发明专利"
    DEFENCE_PATENT = "defence_patent", "国防专利"
    PLANT_VARIETY = "plant_variety", "植物新品种"
    CROP_VARIETY = "crop_variety", "国家级农作物品种"
    NEW_DRUG = "new_drug", "国家新药"
    TCM_PROTECTED = "tcm_protected", "国家一级中药保护品种"
    IC_LAYOUT = "ic_layout", "集成电路布图设计专有权"
    UTILITY_MODEL = "utility_model", "实用新型专利"
    DESIGN = "design", "外观设计专利"
    SOFTWARE = "software", "软件著作权"
    TRADEMARK = "trademark", "商标"


CLASS_I_TYPES = frozenset(
    {
        IPType.INVENTION,
        IPType.DEFENCE_PATENT,
        IPType.PLANT_VARIETY,
        IPType.CROP_VARIETY,
        IPType.NEW_DRUG,
        IPType.TCM_PROTECTED,
        IPType.IC_LAYOUT,
    }
)
CLASS_II_TYPES = frozenset({IPType.UTILITY_MODEL, IPType.DESIGN, IPType.SOFTWARE})


class IPAcquisition(models.TextChoices):
    """获得方式, 国科发火〔2016〕32号 第十一条(二)."""

    OWN_RD = "own_rd", "自主研发"
    TRANSFER = "transfer", "受让"
    GIFT = "gift", "受赠"
    MERGER = "merger", "并购"


class IPStatus(models.TextChoices):
    PENDING = "pending", "申请中"
    VALID = "valid", "有效"
    LAPSED = "lapsed", "失效"


class QualificationKind(models.TextChoices):
    HNTE = "hnte", "高新技术企业"
    TECH_SME = "tech_sme", "科技型中小企业"
    INNOVATIVE_SME = "innovative_sme", "创新型中小企业"
    SPECIALISED_SME = "specialised_sme", "专精特新中小企业"
    LITTLE_GIANT = "little_giant", "专精特新“小巨人”企业"
    SH_TECH_GIANT = "sh_tech_giant", "上海市科技小巨人企业"
    SH_TECH_GIANT_CULTIVATION = "sh_tech_giant_cultivation", "上海市科技小巨人培育企业"
    POTENTIAL_GAZELLE = "potential_gazelle", "潜力瞪羚企业"
    GAZELLE = "gazelle", "瞪羚企业"
    POTENTIAL_UNICORN = "potential_unicorn", "潜力独角兽企业"
    UNICORN = "unicorn", "独角兽企业"
    ACADEMICIAN_WORKSTATION = "academician_workstation", "院士（专家）工作站"
    RD_INSTITUTION = "rd_institution", "研发机构（企业技术中心等）"


class QualificationLevel(models.TextChoices):
    NATIONAL = "national", "国家级"
    MUNICIPAL = "municipal", "市级"
    DISTRICT = "district", "区级"
