"""The demo marketplace: fixed logins, believable Chinese shops, listings and orders."""
DEMO_PASSWORD = "tiaojie-demo"
DEMO_USERNAMES = ([f"buyer{i}" for i in range(1, 7)] + [f"seller{i}" for i in range(1, 4)]
                  + ["mediator1", "mediator2", "admin"])

SHOPS = [
    # (name, required deposit fen, seller display name)
    ("云杉数码专营店", 1_000_000, "云杉店长 周强"),
    ("江南布衣坊", 500_000, "布衣坊掌柜 林晓"),
    ("山野良品生活馆", 300_000, "良品客服 赵敏"),
]

# each shop's main category (主营类目), in SHOPS order: its metrics are compared with the category's
SHOP_CATEGORIES = ("electronics", "apparel", "food")

# each shop's return address (退货地址): (contact, phone, address)
RETURN_ADDRESSES = [
    ("周强", "0571-88001234", "浙江省杭州市余杭区文一西路 1500 号 云杉数码售后仓"),
    ("林晓", "021-62005678", "上海市嘉定区曹安公路 2000 号 江南布衣坊退货组"),
    ("赵敏", "0871-65009876", "云南省昆明市官渡区春城路 88 号 山野良品仓库"),
]

PRODUCTS = [
    # (shop index, title, category, price fen, ship hours, promises)
    (0, "蓝牙降噪耳机 Pro 2代 黑色", "electronics", 39_900, 48, ["no_reason_7d", "ship_48h", "genuine_guarantee"]),
    (0, "65W 氮化镓快充充电器 双口", "electronics", 12_900, 24, ["no_reason_7d", "ship_48h"]),
    (0, "机械键盘 87键 茶轴 白光", "electronics", 25_900, 48, ["no_reason_7d", "genuine_guarantee"]),
    (0, "智能手环 7 NFC版 心率血氧", "electronics", 22_900, 48, ["no_reason_7d", "ship_48h"]),
    (0, "20000mAh 移动电源 22.5W", "electronics", 9_900, 24, ["no_reason_7d", "free_return_shipping"]),
    (0, "儿童编程机器人 积木套装", "toys", 29_900, 72, ["no_reason_7d"]),
    (0, "人体工学无线鼠标 静音", "electronics", 7_900, 48, ["no_reason_7d", "ship_48h"]),
    (1, "真丝印花连衣裙 夏季新款", "apparel", 45_900, 72, ["no_reason_7d", "free_return_shipping"]),
    (1, "纯棉宽松白色T恤 男女同款", "apparel", 6_900, 48, ["no_reason_7d", "ship_48h"]),
    (1, "羊毛混纺双面呢大衣 驼色", "apparel", 89_900, 72, ["no_reason_7d", "free_return_shipping"]),
    (1, "高腰直筒牛仔裤 复古蓝", "apparel", 15_900, 48, ["no_reason_7d"]),
    (1, "轻便透气跑步鞋 37-44码", "sports", 26_900, 48, ["no_reason_7d", "ship_48h"]),
    (1, "瑜伽垫 加厚防滑 10mm", "sports", 8_900, 48, ["no_reason_7d"]),
    (1, "手工编织草帽 度假风", "apparel", 4_900, 96, []),
    (2, "云南古树普洱茶 357g 饼茶", "food", 16_800, 48, ["genuine_guarantee"]),
    (2, "五常稻花香大米 5kg 新米", "food", 8_990, 48, ["ship_48h"]),
    (2, "手工红糖姜茶 12袋装", "food", 3_990, 24, ["ship_48h"]),
    (2, "竹纤维毛巾 3条装 柔软吸水", "home", 4_590, 48, ["no_reason_7d"]),
    (2, "陶瓷手绘茶具套装 一壶四杯", "home", 19_900, 72, ["no_reason_7d", "free_return_shipping"]),
    (2, "植物精油香薰蜡烛 礼盒", "beauty", 12_800, 48, ["no_reason_7d"]),
    (2, "玻尿酸补水面膜 20片", "beauty", 9_900, 48, ["genuine_guarantee"]),
    (2, "国学经典绘本 儿童版 全6册", "books", 11_800, 48, ["no_reason_7d"]),
]

BUYERS = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊"]
MEDIATORS = ["小二·明月", "小二·清风"]
ADDRESSES = [
    "浙江省杭州市西湖区文三路 90 号", "上海市浦东新区张杨路 500 号", "北京市朝阳区建国路 88 号",
    "广东省深圳市南山区科技园南路 16 号", "四川省成都市武侯区人民南路四段 12 号", "江苏省南京市鼓楼区中山路 321 号",
]

# How many demo orders end in each state (60 in all; completed ones half inside the
# 15-day after-sales window, half outside).
ORDER_PLAN = {"created": 6, "paid": 10, "shipped": 10, "delivered": 8, "completed": 18, "closed": 8}

# 旺旺-style buyer–seller conversations before any dispute: (buyer line, seller line, buyer line …)
CHATS = [
    ["收到了，但是颜色和图片差别有点大", "亲，不同显示器会有一点色差的，您看下实物在自然光下", "自然光下也明显偏黄，和详情页不一样", "那您可以申请售后，我们这边核实一下"],
    ["快递显示签收了但我没收到", "亲，我帮您联系一下快递，请稍等", "今天还是没有消息", "抱歉，快递那边还在查件"],
    ["东西到了，但是用了一次就坏了", "亲，麻烦拍个视频给我们看一下", "已经拍了，怎么发给你？", "您直接在售后申请里上传就可以"],
    ["商品有一处明显瑕疵", "亲，给您带来不便了，我们可以给您一些补偿"],
    ["你好，请问这款什么时候能发货？", "亲，付款后48小时内发货哦～", "好的，麻烦尽快，谢谢！"],
]
