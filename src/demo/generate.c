/* The demo shop's data generator. Pure C with no warehouse dependency: it
 * builds the shop's entities in memory (customers, products, orders, their
 * items and payments, web sessions) and writes them as the shop would export
 * them: CSV for the database tables, NDJSON for the web events.
 *
 * Determinism is the contract: the bytes depend only on the seed and scale.
 * Hence our own PRNG (xoshiro256** seeded by splitmix64, one generator per
 * stream so that streams do not disturb each other), integer arithmetic for
 * every distribution, money in integer cents, dates from a civil-calendar
 * algorithm rather than the C library's time zone machinery, and no
 * floating-point formatting. The only floating-point operation is scaling a
 * base count, an IEEE multiplication that rounds the same everywhere.
 *
 * The data is meant to give silver real work: duplicate customer rows (an
 * update exported twice), NULL, mixed-case and padded emails, lower-case
 * country codes, inconsistent order statuses, duplicated order item lines,
 * failed and refunded payments, and web events delivered twice, with bots. */
#include "demo/demo.h"

#include "core/buf.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ PRNG */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stateless 64-bit hash of (seed, kind, n): ids that look random (UUIDs,
 * session ids) but are a pure function of what they name. */
static uint64_t mix(uint64_t seed, uint64_t kind, uint64_t n)
{
    uint64_t x = seed ^ (kind * 0xd1b54a32d192ed03ULL) ^ (n * 0x9e3779b97f4a7c15ULL);
    splitmix64(&x);
    return splitmix64(&x);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ ((stream + 1) * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0. The modulo bias (< n / 2^64) is irrelevant here
 * and the result is the same on every machine. */
static uint64_t below(rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
static int64_t between(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)below(r, (uint64_t)(hi - lo + 1));
}
/* True with probability per10k / 10000. */
static bool chance(rng *r, unsigned per10k) { return below(r, 10000) < per10k; }

/* Index drawn from small integer weights. */
static int pick(rng *r, const unsigned *w, int n)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    uint64_t x = below(r, total);
    for (int i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

/* Index drawn from a cumulative weight table (cum[i] = sum of w[0..i]). */
static int pick_cum(rng *r, const uint64_t *cum, int n)
{
    uint64_t x = below(r, cum[n - 1]);
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------- calendar */

/* Days since 1970-01-01 <-> civil date (Howard Hinnant's algorithms). */
static int days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int weekday(int day) { return (day + 4) % 7; } /* 0 = Sunday */

/* "YYYY-MM-DD" / "YYYY-MM-DD HH:MM:SS" / "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static void put_date(ig_buf *b, int day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    ig_buf_printf(b, "%04d-%02d-%02d", y, m, d);
}

static void put_ts(ig_buf *b, int64_t sec)
{
    int day = (int)(sec / 86400), s = (int)(sec % 86400);
    put_date(b, day);
    ig_buf_printf(b, " %02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
}

static void put_iso_ms(ig_buf *b, int64_t ms)
{
    int64_t sec = ms / 1000;
    int day = (int)(sec / 86400), s = (int)(sec % 86400);
    put_date(b, day);
    ig_buf_printf(b, "T%02d:%02d:%02d.%03dZ", s / 3600, s / 60 % 60, s % 60, (int)(ms % 1000));
}

void ig__demo_cents(char *out, size_t n, int64_t cents)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    snprintf(out, n, "%s%llu.%02llu", cents < 0 ? "-" : "", (unsigned long long)(a / 100),
             (unsigned long long)(a % 100));
}

static void put_cents(ig_buf *b, int64_t cents)
{
    char s[32];
    ig__demo_cents(s, sizeof s, cents);
    ig_buf_puts(b, s);
}

/* One CSV field: quoted when it holds a delimiter, quote, line break or
 * leading/trailing space (so padding survives as received). */
static void put_csv(ig_buf *b, const char *s)
{
    size_t n = strlen(s);
    bool q = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; !q && i < n; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        ig_buf_append(b, s, n);
        return;
    }
    ig_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') ig_buf_putc(b, '"');
        ig_buf_putc(b, s[i]);
    }
    ig_buf_putc(b, '"');
}

static void put_uuid(ig_buf *b, uint64_t hi, uint64_t lo)
{
    /* version 4, variant 1 bits, like the SDKs that send these */
    hi = (hi & ~0xf000ULL) | 0x4000ULL;
    lo = (lo & ~(3ULL << 62)) | (2ULL << 62);
    ig_buf_printf(b, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
                  (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
                  (unsigned long long)(lo & 0xffffffffffffULL));
}

/* --------------------------------------------------------- fixed tables */

/* The shop's history: two years of orders; the export is taken the day
 * after. Web events cover the last WEB_DAYS days (a recent tracking plan). */
#define FIRST_YEAR 2024
#define WEB_DAYS 14

typedef struct country {
    const char *code, *locale;
    unsigned weight;
    const char *cities[8];
} country;

static const country countries[] = {
    {"US",
     "en-US",
     38,
     {"New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Austin", "Boston", "Denver"}},
    {"GB", "en-GB", 12, {"London", "Manchester", "Bristol", "Leeds", "Edinburgh"}},
    {"DE", "de-DE", 11, {"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main"}},
    {"FR", "fr-FR", 8, {"Paris", "Lyon", "Marseille", "Toulouse", "Lille"}},
    {"CA", "en-CA", 7, {"Toronto", "Vancouver", "Montréal", "Calgary"}},
    {"NL", "nl-NL", 5, {"Amsterdam", "Rotterdam", "Utrecht"}},
    {"AU", "en-AU", 5, {"Sydney", "Melbourne", "Brisbane"}},
    {"ES", "es-ES", 4, {"Madrid", "Barcelona", "Valencia"}},
    {"IT", "it-IT", 4, {"Milano", "Roma", "Torino"}},
    {"SE", "sv-SE", 3, {"Stockholm", "Göteborg", "Malmö"}},
    {"JP", "ja-JP", 3, {"Tokyo", "Osaka"}},
};
#define N_COUNTRIES (int)(sizeof countries / sizeof countries[0])

/* Names with the ASCII form used in email addresses. */
typedef struct person_name {
    const char *name, *ascii;
} person_name;

static const person_name first_names[] = {
    {"Emma", "emma"},     {"Liam", "liam"},     {"Olivia", "olivia"}, {"Noah", "noah"},
    {"Ava", "ava"},       {"Lucas", "lucas"},   {"Mia", "mia"},       {"Ethan", "ethan"},
    {"Sofia", "sofia"},   {"Mason", "mason"},   {"Amelia", "amelia"}, {"James", "james"},
    {"Chloé", "chloe"},   {"Léa", "lea"},       {"Hugo", "hugo"},     {"Jonas", "jonas"},
    {"Lena", "lena"},     {"Felix", "felix"},   {"Marta", "marta"},   {"Pablo", "pablo"},
    {"Giulia", "giulia"}, {"Matteo", "matteo"}, {"Freya", "freya"},   {"Oscar", "oscar"},
    {"Yuki", "yuki"},     {"Haruto", "haruto"}, {"Aisha", "aisha"},   {"Omar", "omar"},
    {"Priya", "priya"},   {"Arjun", "arjun"},   {"Zoe", "zoe"},       {"Daniel", "daniel"},
    {"Grace", "grace"},   {"Henry", "henry"},   {"Isla", "isla"},     {"Jack", "jack"},
    {"Nora", "nora"},     {"Leo", "leo"},       {"Ruby", "ruby"},     {"Sam", "sam"},
    {"Elena", "elena"},   {"Mateo", "mateo"},   {"Anna", "anna"},     {"Erik", "erik"},
    {"Ingrid", "ingrid"}, {"Chen", "chen"},     {"Mei", "mei"},       {"David", "david"},
    {"Sara", "sara"},     {"Tom", "tom"},
};
static const person_name last_names[] = {
    {"Smith", "smith"},
    {"Johnson", "johnson"},
    {"Williams", "williams"},
    {"Brown", "brown"},
    {"Jones", "jones"},
    {"García", "garcia"},
    {"Miller", "miller"},
    {"Davis", "davis"},
    {"Martínez", "martinez"},
    {"Wilson", "wilson"},
    {"Anderson", "anderson"},
    {"Taylor", "taylor"},
    {"Thomas", "thomas"},
    {"Moore", "moore"},
    {"Martin", "martin"},
    {"Lee", "lee"},
    {"Müller", "mueller"},
    {"Schmidt", "schmidt"},
    {"Schneider", "schneider"},
    {"Fischer", "fischer"},
    {"Weber", "weber"},
    {"Dubois", "dubois"},
    {"Lefèvre", "lefevre"},
    {"Moreau", "moreau"},
    {"Rossi", "rossi"},
    {"Russo", "russo"},
    {"Bianchi", "bianchi"},
    {"de Vries", "devries"},
    {"Jansen", "jansen"},
    {"Andersson", "andersson"},
    {"Johansson", "johansson"},
    {"O'Brien", "obrien"},
    {"Murphy", "murphy"},
    {"Kelly", "kelly"},
    {"Walsh", "walsh"},
    {"Tanaka", "tanaka"},
    {"Suzuki", "suzuki"},
    {"Sato", "sato"},
    {"Kim", "kim"},
    {"Park", "park"},
    {"Nguyen", "nguyen"},
    {"Patel", "patel"},
    {"Singh", "singh"},
    {"Khan", "khan"},
    {"Cohen", "cohen"},
    {"Silva", "silva"},
    {"Santos", "santos"},
    {"Novak", "novak"},
    {"Kowalski", "kowalski"},
    {"Clarke", "clarke"},
};
#define N_FIRST (int)(sizeof first_names / sizeof first_names[0])
#define N_LAST (int)(sizeof last_names / sizeof last_names[0])

static const char *const domains[] = {"gmail.com", "outlook.com", "yahoo.com",     "icloud.com",
                                      "proton.me", "gmx.de",      "hotmail.co.uk", "orange.fr",
                                      "web.de",    "fastmail.com"};
static const unsigned domain_w[] = {32, 16, 10, 11, 4, 5, 5, 4, 3, 2};

static const char *const segments[] = {"consumer", "business", "reseller"};
static const unsigned segment_w[] = {80, 16, 4};

typedef struct category {
    const char *code, *name, *slug;
    unsigned weight;
    int lo, hi;               /* price range in whole currency units */
    int margin_lo, margin_hi; /* cost as percent of price */
    const char *quals[8], *nouns[8];
} category;

static const category categories[] = {
    {"AP",
     "Apparel",
     "apparel",
     30,
     15,
     90,
     35,
     55,
     {"Cotton", "Linen", "Merino", "Organic", "Relaxed", "Slim", "Striped", "Washed"},
     {"Tee", "Shirt", "Hoodie", "Sweater", "Chinos", "Jacket", "Dress", "Shorts"}},
    {"FW",
     "Footwear",
     "footwear",
     12,
     40,
     160,
     40,
     60,
     {"Leather", "Suede", "Canvas", "Knit", "Waterproof", "Low", "High", "Recycled"},
     {"Sneakers", "Boots", "Loafers", "Sandals", "Runners", "Slip-Ons", "Trainers",
      "Chelsea Boots"}},
    {"AC",
     "Accessories",
     "accessories",
     15,
     10,
     70,
     30,
     50,
     {"Leather", "Canvas", "Wool", "Silk", "Woven", "Reversible", "Travel", "Mini"},
     {"Belt", "Wallet", "Scarf", "Beanie", "Tote", "Backpack", "Cap", "Sunglasses"}},
    {"HO",
     "Home",
     "home",
     15,
     12,
     120,
     35,
     55,
     {"Ceramic", "Linen", "Oak", "Stoneware", "Wool", "Glass", "Cotton", "Copper"},
     {"Mug", "Throw", "Cushion", "Vase", "Lamp", "Bowl Set", "Candle", "Towel Set"}},
    {"OD",
     "Outdoor",
     "outdoor",
     12,
     20,
     250,
     45,
     65,
     {"Ultralight", "Insulated", "Packable", "Trail", "Alpine", "Storm", "Camp", "Waterproof"},
     {"Tent", "Sleeping Bag", "Rain Jacket", "Daypack", "Bottle", "Headlamp", "Trekking Poles",
      "Stove"}},
    {"BE",
     "Beauty",
     "beauty",
     10,
     6,
     45,
     25,
     45,
     {"Hydrating", "Vitamin C", "Mineral", "Herbal", "Overnight", "Gentle", "Matte", "Daily"},
     {"Serum", "Cleanser", "Moisturizer", "Sunscreen", "Lip Balm", "Face Mask", "Shampoo",
      "Hand Cream"}},
    {"EL",
     "Electronics",
     "electronics",
     6,
     20,
     300,
     55,
     75,
     {"Wireless", "Noise-Cancelling", "Portable", "Smart", "Compact", "Solar", "Magnetic", "Fast"},
     {"Earbuds", "Headphones", "Speaker", "Charger", "Power Bank", "Watch", "Tracker", "Cable"}},
};
#define N_CATEGORIES (int)(sizeof categories / sizeof categories[0])

static const char *const adjectives[] = {"Classic", "Everyday", "Urban",       "Essential",
                                         "Premium", "Vintage",  "Lightweight", "Heritage",
                                         "Modern",  "Coastal",  "Nordic",      "Studio"};
#define N_ADJ (int)(sizeof adjectives / sizeof adjectives[0])

/* Order status as the shop's database holds it; the export is not always
 * tidy about case and spacing (see put_status). */
enum { ST_COMPLETED, ST_CANCELLED, ST_RETURNED, ST_PROCESSING };
static const char *const statuses[] = {"completed", "cancelled", "returned", "processing"};

static const char *const channels[] = {"web", "mobile_app", "marketplace", "phone"};
static const unsigned channel_w[] = {60, 24, 10, 6};
enum { CH_WEB = 0 };

static const char *const methods[] = {"card", "paypal", "apple_pay", "klarna", "gift_card"};
static const unsigned method_w[] = {58, 22, 10, 6, 4};

/* Orders by hour of day (UTC): quiet nights, lunch and evening peaks. */
static const unsigned hour_w[24] = {3,  2,  1,  1, 1, 2,  3,  5,  7,  8,  9, 10,
                                    12, 12, 10, 9, 9, 10, 12, 14, 15, 13, 9, 5};
/* Seasonality by month and weekday (percent). */
static const unsigned month_w[12] = {85, 80, 95, 95, 100, 95, 90, 95, 100, 110, 145, 170};
static const unsigned weekday_w[7] = {118, 100, 98, 100, 102, 105, 114};

static const char *const user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
};
static const unsigned ua_w[] = {30, 18, 27, 17, 4, 4};
#define N_HUMAN_UA 6
#define N_UA 8

enum { EV_PAGE_VIEW, EV_PRODUCT_VIEW, EV_ADD_TO_CART, EV_CHECKOUT_STARTED, EV_ORDER_COMPLETED };
static const char *const event_types[] = {"page_view", "product_view", "add_to_cart",
                                          "checkout_started", "order_completed"};

static const struct {
    const char *name, *format;
} stream_info[IG_DEMO_NSTREAMS] = {
    {"customers", "csv"},   {"products", "csv"}, {"orders", "csv"},
    {"order_items", "csv"}, {"payments", "csv"}, {"web_events", "ndjson"},
};

const char *ig_demo_stream_name(int s)
{
    return s >= 0 && s < IG_DEMO_NSTREAMS ? stream_info[s].name : "?";
}
const char *ig_demo_stream_format(int s)
{
    return s >= 0 && s < IG_DEMO_NSTREAMS ? stream_info[s].format : "?";
}

/* ------------------------------------------------------------- the shop */

typedef struct customer {
    int signup_day;
    short country, city, first, last;
} customer;

typedef struct product {
    int64_t price, cost; /* cents, current */
    int category, combo;
} product;

typedef struct order {
    int64_t ts;    /* seconds since the epoch, UTC */
    int64_t total; /* cents after discounts */
    int customer;  /* 1-based id */
    int day;
    int first_item, n_items; /* into gen.items */
    unsigned char status, channel;
} order;

typedef struct item {
    int product; /* 0-based index */
    int quantity;
} item;

typedef struct event {
    int64_t ms;
    uint32_t seq;     /* creation order: the event id and the sort's tie-break */
    uint32_t session; /* session number */
    int visitor;      /* customer id for known visitors, else > N_CUSTOMERS */
    int user;         /* customer id sent as user_id, 0 for none */
    int product;      /* 1-based id, 0 for none */
    int order;        /* 1-based id, 0 for none */
    unsigned char type, ua, locale, page;
} event;

typedef struct gen {
    const ig_demo_gen_options *opt;
    const ig_demo_sink *sink;
    ig_error *err;
    ig_buf out;
    int stream;
    int64_t rows;

    int first_day, last_day, ndays; /* the order history */
    uint64_t *day_cum;              /* cumulative order weight per day */
    int n_customers, n_products, n_orders, n_events_target;
    customer *customers; /* [id - 1] */
    product *products;   /* [id - 1] */
    uint64_t *pop_cum;   /* cumulative popularity over products */
    order *orders;       /* [id - 1], in time order */
    item *items;
    int n_items, cap_items;
    event *events;
    int n_events, cap_events;
    uint32_t n_sessions;
} gen;

static int64_t scaled(double scale, int64_t base, int64_t min)
{
    double v = (double)base * scale + 0.5;
    int64_t n = (int64_t)v;
    return n < min ? min : n;
}

/* Flush the output buffer to the sink once it holds a good chunk. */
static ig_rc flush(gen *g, bool force)
{
    if (!force && g->out.len < (1u << 20)) return IG_OK;
    if (!g->out.len) return IG_OK;
    ig_rc rc = g->sink->write(g->sink->ctx, g->stream, g->out.data, g->out.len, g->err);
    ig_buf_reset(&g->out);
    return rc;
}

static ig_rc end_row(gen *g)
{
    ig_buf_putc(&g->out, '\n');
    g->rows++;
    return flush(g, false);
}

static ig_rc begin_stream(gen *g, int stream)
{
    g->stream = stream;
    g->rows = 0;
    ig_buf_reset(&g->out);
    return IG_OK;
}

static ig_rc end_stream(gen *g)
{
    ig_rc rc = flush(g, true);
    if (rc) return rc;
    return g->sink->end ? g->sink->end(g->sink->ctx, g->stream, g->rows, g->err) : IG_OK;
}

/* Black Friday and Cyber Monday of a year (the day after the fourth
 * Thursday of November, and the Monday after). */
static int black_friday(int year)
{
    int nov1 = days_from_civil(year, 11, 1);
    int first_thu = nov1 + (4 - weekday(nov1) + 7) % 7;
    return first_thu + 21 + 1;
}

static bool is_promo_day(int day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    int bf = black_friday(y);
    return day >= bf && day <= bf + 3;
}

/* Weight of each day of the history: steady growth, seasons, weekends,
 * Black Friday weekend and the Christmas rush. */
static void build_days(gen *g)
{
    g->first_day = days_from_civil(FIRST_YEAR, 1, 1);
    g->last_day = days_from_civil(FIRST_YEAR + 1, 12, 31);
    g->ndays = g->last_day - g->first_day + 1;
    g->day_cum = ig_malloc(sizeof *g->day_cum * (size_t)g->ndays);
    uint64_t cum = 0;
    for (int i = 0; i < g->ndays; i++) {
        int day = g->first_day + i, y, m, d;
        civil_from_days(day, &y, &m, &d);
        uint64_t w = (uint64_t)(100 + 80 * i / g->ndays) * month_w[m - 1] * weekday_w[weekday(day)];
        int bf = black_friday(y);
        if (day == bf)
            w *= 4;
        else if (day == bf + 3)
            w = w * 5 / 2;
        else if (day > bf && day < bf + 3)
            w = w * 3 / 2;
        else if (m == 12 && d >= 15 && d <= 22)
            w = w * 13 / 10;
        else if (m == 12 && (d == 25 || d == 24))
            w = w * 4 / 10;
        cum += w;
        g->day_cum[i] = cum;
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------ customers */

static void put_email(gen *g, rng *r, int id, const customer *c)
{
    const char *f = first_names[c->first].ascii, *l = last_names[c->last].ascii;
    const char *dom = domains[pick(r, domain_w, (int)(sizeof domain_w / sizeof domain_w[0]))];
    ig_buf e = IG_BUF_INIT;
    switch (below(r, 4)) {
    case 0:
        ig_buf_printf(&e, "%s.%s", f, l);
        break;
    case 1:
        ig_buf_printf(&e, "%s%s%d", f, l, id % 100);
        break;
    case 2:
        ig_buf_printf(&e, "%c.%s", f[0], l);
        break;
    default:
        ig_buf_printf(&e, "%s_%d", f, id % 1000);
        break;
    }
    if (chance(r, 400)) /* typed on a phone: capitalised */
        for (size_t i = 0; i < e.len; i++)
            if (i == 0 || e.data[i - 1] == '.')
                e.data[i] = (char)(e.data[i] - 32 * (e.data[i] >= 'a' && e.data[i] <= 'z'));
    ig_buf_printf(&e, "@%s", dom);
    if (chance(r, 150)) { /* a shouting legacy import */
        for (size_t i = 0; i < e.len; i++)
            if (e.data[i] >= 'a' && e.data[i] <= 'z') e.data[i] = (char)(e.data[i] - 32);
    }
    if (chance(r, 200)) { /* pasted with spaces */
        ig_buf f2 = IG_BUF_INIT;
        ig_buf_printf(&f2, " %s ", e.data);
        put_csv(&g->out, f2.data);
        ig_buf_free(&f2);
    } else {
        put_csv(&g->out, e.data);
    }
    ig_buf_free(&e);
}

static void put_customer(gen *g, rng *r, int id, const customer *c, int city, int64_t updated)
{
    ig_buf_printf(&g->out, "%d,", id);
    put_csv(&g->out, first_names[c->first].name);
    ig_buf_putc(&g->out, ',');
    if (chance(r, 80)) { /* a trailing space the form did not trim */
        ig_buf f = IG_BUF_INIT;
        ig_buf_printf(&f, "%s ", last_names[c->last].name);
        put_csv(&g->out, f.data);
        ig_buf_free(&f);
    } else {
        put_csv(&g->out, last_names[c->last].name);
    }
    ig_buf_putc(&g->out, ',');
    if (!chance(r, 60)) put_email(g, r, id, c); /* else: no email (phone orders) */
    const country *co = &countries[c->country];
    if (chance(r, 200))
        ig_buf_printf(&g->out, ",%c%c,", co->code[0] + 32, co->code[1] + 32);
    else
        ig_buf_printf(&g->out, ",%s,", co->code);
    put_csv(&g->out, co->cities[city]);
    ig_buf_putc(&g->out, ',');
    put_date(&g->out, c->signup_day);
    ig_buf_printf(&g->out, ",%s,", segments[pick(r, segment_w, 3)]);
    put_ts(&g->out, updated);
}

static int n_cities(const country *c)
{
    int n = 0;
    while (n < 8 && c->cities[n])
        n++;
    return n;
}

/* Customers sign up over the history (and the two years before it, 15%),
 * following the same growth and seasons as the orders; ids follow signup
 * order. About 2% moved city later and the export holds both versions. */
static ig_rc gen_customers(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_CUSTOMERS);
    int n = g->n_customers;
    int *days = ig_malloc(sizeof *days * (size_t)n);
    int before = days_from_civil(FIRST_YEAR - 2, 1, 1);
    for (int i = 0; i < n; i++) {
        if (chance(&r, 1500))
            days[i] = (int)between(&r, before, g->first_day - 1);
        else
            days[i] = g->first_day + pick_cum(&r, g->day_cum, g->ndays);
    }
    qsort(days, (size_t)n, sizeof *days, cmp_int);
    g->customers = ig_calloc((size_t)n, sizeof *g->customers);
    unsigned cw[N_COUNTRIES];
    for (int i = 0; i < N_COUNTRIES; i++)
        cw[i] = countries[i].weight;

    ig_rc rc = begin_stream(g, IG_DEMO_CUSTOMERS);
    ig_buf_puts(
        &g->out,
        "customer_id,first_name,last_name,email,country,city,signup_date,segment,updated_at\n");
    int *moved = ig_malloc(sizeof *moved * (size_t)n);
    int n_moved = 0;
    for (int i = 0; i < n && !rc; i++) {
        customer *c = &g->customers[i];
        c->signup_day = days[i];
        c->country = (short)pick(&r, cw, N_COUNTRIES);
        c->city = (short)below(&r, (uint64_t)n_cities(&countries[c->country]));
        c->first = (short)below(&r, N_FIRST);
        c->last = (short)below(&r, N_LAST);
        int64_t signed_up = (int64_t)c->signup_day * 86400 + between(&r, 6 * 3600, 23 * 3600);
        put_customer(g, &r, i + 1, c, c->city, signed_up);
        rc = end_row(g);
        if (chance(&r, 200)) moved[n_moved++] = i;
    }
    /* The later versions come at the end of the export, as an incremental
     * extract appended to a full one would. */
    for (int k = 0; k < n_moved && !rc; k++) {
        int i = moved[k];
        customer *c = &g->customers[i];
        int nc = n_cities(&countries[c->country]);
        c->city = (short)((c->city + 1 + (int)below(&r, (uint64_t)(nc > 1 ? nc - 1 : 1))) % nc);
        int day = (int)between(&r, c->signup_day + 1, g->last_day);
        put_customer(g, &r, i + 1, c, c->city, (int64_t)day * 86400 + between(&r, 0, 86399));
        rc = end_row(g);
    }
    free(moved);
    free(days);
    return rc ? rc : end_stream(g);
}

/* ------------------------------------------------------------- products */

static void product_name(ig_buf *b, const product *p)
{
    const category *c = &categories[p->category];
    int combo = p->combo;
    ig_buf_printf(b, "%s %s %s", adjectives[combo % N_ADJ], c->quals[combo / N_ADJ % 8],
                  c->nouns[combo / N_ADJ / 8 % 8]);
}

/* Products across seven categories, priced like a real catalogue (x.99),
 * with popularity following a Zipf-like law over a random ranking. */
static ig_rc gen_products(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_PRODUCTS);
    int n = g->n_products;
    g->products = ig_calloc((size_t)n, sizeof *g->products);
    unsigned cw[N_CATEGORIES];
    int per_cat[N_CATEGORIES] = {0};
    for (int i = 0; i < N_CATEGORIES; i++)
        cw[i] = categories[i].weight;

    ig_rc rc = begin_stream(g, IG_DEMO_PRODUCTS);
    ig_buf_puts(&g->out, "product_id,sku,name,category,price,cost,created_at\n");
    int combos = N_ADJ * 8 * 8;
    for (int i = 0; i < n && !rc; i++) {
        product *p = &g->products[i];
        p->category = i < N_CATEGORIES ? i : pick(&r, cw, N_CATEGORIES);
        const category *c = &categories[p->category];
        int k = per_cat[p->category]++;
        p->combo = (int)(((int64_t)k * 389 + p->category * 17) % combos);
        p->price = between(&r, c->lo, c->hi) * 100 - 1;
        p->cost = p->price * between(&r, c->margin_lo, c->margin_hi) / 100;
        ig_buf_printf(&g->out, "%d,%s-%05d,", i + 1, c->code, 10000 + i);
        ig_buf name = IG_BUF_INIT;
        product_name(&name, p);
        put_csv(&g->out, name.data);
        ig_buf_free(&name);
        ig_buf_printf(&g->out, ",%s,", c->name);
        put_cents(&g->out, p->price);
        ig_buf_putc(&g->out, ',');
        put_cents(&g->out, p->cost);
        ig_buf_putc(&g->out, ',');
        put_ts(&g->out, (int64_t)days_from_civil(FIRST_YEAR - 1, 6, 1) * 86400 + (int64_t)i * 3607);
        rc = end_row(g);
    }
    /* popularity: weight 1e6 / (rank + 5) over a shuffled ranking */
    int *rank = ig_malloc(sizeof *rank * (size_t)n);
    for (int i = 0; i < n; i++)
        rank[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)below(&r, (uint64_t)i + 1), t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    g->pop_cum = ig_malloc(sizeof *g->pop_cum * (size_t)n);
    uint64_t *w = ig_calloc((size_t)n, sizeof *w);
    for (int k = 0; k < n; k++)
        w[rank[k]] = 1000000 / ((uint64_t)k + 5);
    uint64_t cum = 0;
    for (int i = 0; i < n; i++)
        g->pop_cum[i] = cum += w[i];
    free(w);
    free(rank);
    return rc ? rc : end_stream(g);
}

/* --------------------------------------------------------------- orders */

/* A customer who had signed up by `day` (eligible = how many had): new
 * customers often order soon after signing up; among the others, long-time
 * customers order more (minimum of two uniform draws). */
static int pick_customer(rng *r, int eligible)
{
    if (eligible <= 0) return 1;
    if (chance(r, 3000)) {
        int recent = eligible / 30 > 0 ? eligible / 30 : 1;
        return eligible - (int)below(r, (uint64_t)recent);
    }
    uint64_t a = below(r, (uint64_t)eligible), b = below(r, (uint64_t)eligible);
    return (int)(a < b ? a : b) + 1;
}

static void put_status(gen *g, rng *r, int st)
{
    const char *s = statuses[st];
    if (!chance(r, 150)) {
        ig_buf_puts(&g->out, s);
        return;
    }
    switch (below(r, 3)) { /* the old admin tool wrote these */
    case 0:
        ig_buf_printf(&g->out, "%c%s", s[0] - 32, s + 1);
        break;
    case 1:
        for (const char *p = s; *p; p++)
            ig_buf_putc(&g->out, (char)(*p - 32));
        break;
    default:
        ig_buf_printf(&g->out, "\"%s \"", s);
        break;
    }
}

/* Orders over the two years, in time order (ids increase with time), each
 * from a customer who had signed up by then, with a status that depends on
 * its age (the last days still have orders in processing). */
static ig_rc gen_orders(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_ORDERS);
    int n = g->n_orders;
    int *per_day = ig_calloc((size_t)g->ndays, sizeof *per_day);
    for (int i = 0; i < n; i++)
        per_day[pick_cum(&r, g->day_cum, g->ndays)]++;
    g->orders = ig_calloc((size_t)n, sizeof *g->orders);
    int64_t *secs = ig_malloc(sizeof *secs * (size_t)n);
    int id = 0, eligible = 0;

    ig_rc rc = begin_stream(g, IG_DEMO_ORDERS);
    ig_buf_puts(&g->out, "order_id,customer_id,ordered_at,status,channel,currency\n");
    for (int di = 0; di < g->ndays && !rc; di++) {
        int day = g->first_day + di, k = per_day[di];
        while (eligible < g->n_customers && g->customers[eligible].signup_day <= day)
            eligible++;
        for (int j = 0; j < k; j++)
            secs[j] = pick(&r, hour_w, 24) * 3600 + (int64_t)below(&r, 3600);
        qsort(secs, (size_t)k, sizeof *secs, cmp_i64);
        for (int j = 0; j < k && !rc; j++) {
            order *o = &g->orders[id++];
            o->day = day;
            o->ts = (int64_t)day * 86400 + secs[j];
            o->customer = pick_customer(&r, eligible);
            o->channel = (unsigned char)pick(&r, channel_w, 4);
            int age = g->last_day - day;
            unsigned x = (unsigned)below(&r, 10000);
            if (age <= 2 && x < 5000)
                o->status = ST_PROCESSING;
            else if (x % 1000 < 50)
                o->status = ST_CANCELLED;
            else if (x % 1000 < 105 && age >= 10)
                o->status = ST_RETURNED;
            else
                o->status = ST_COMPLETED;
            ig_buf_printf(&g->out, "%d,%d,", id, o->customer);
            put_ts(&g->out, o->ts);
            ig_buf_putc(&g->out, ',');
            put_status(g, &r, o->status);
            ig_buf_printf(&g->out, ",%s,USD", channels[o->channel]);
            rc = end_row(g);
        }
    }
    free(secs);
    free(per_day);
    return rc ? rc : end_stream(g);
}

/* ---------------------------------------------------------- order items */

static const unsigned lines_w[] = {30, 28, 20, 12, 6, 4}; /* 1..6 lines, mean ~2.5 */
static const unsigned qty_w[] = {75, 17, 6, 1, 1};        /* 1..5 units */

/* Items of every order: distinct products drawn by popularity, quantities,
 * the price of the day (a price rise on the first of the second year) and
 * discounts (frequent and deep over Black Friday weekend). About 0.3% of the
 * lines are exported twice. Totals go back into the orders for payments. */
static ig_rc gen_items(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_ORDER_ITEMS);
    ig_rc rc = begin_stream(g, IG_DEMO_ORDER_ITEMS);
    ig_buf_puts(&g->out, "order_item_id,order_id,product_id,quantity,unit_price,discount\n");
    int rise = days_from_civil(FIRST_YEAR + 1, 1, 1), item_id = 0;
    ig_buf line = IG_BUF_INIT;
    for (int oi = 0; oi < g->n_orders && !rc; oi++) {
        order *o = &g->orders[oi];
        int lines = pick(&r, lines_w, 6) + 1;
        if (lines > g->n_products) lines = g->n_products;
        o->first_item = g->n_items;
        bool promo = is_promo_day(o->day);
        for (int l = 0; l < lines && !rc; l++) {
            int p = pick_cum(&r, g->pop_cum, g->n_products);
            for (int tries = 0; tries < 8; tries++) { /* distinct products per order */
                bool dup = false;
                for (int k = o->first_item; k < g->n_items; k++)
                    dup |= g->items[k].product == p;
                if (!dup) break;
                p = pick_cum(&r, g->pop_cum, g->n_products);
            }
            if (g->n_items == g->cap_items) {
                g->cap_items = g->cap_items ? g->cap_items * 2 : 1024;
                g->items = ig_realloc(g->items, sizeof *g->items * (size_t)g->cap_items);
            }
            item *it = &g->items[g->n_items++];
            it->product = p;
            it->quantity = pick(&r, qty_w, 5) + 1;
            const product *pr = &g->products[p];
            int64_t unit = pr->price > 2000 && o->day < rise ? pr->price - 100 : pr->price;
            int pct = 0;
            if (promo ? chance(&r, 6000) : chance(&r, 1200))
                pct = promo ? 25 : 5 + 5 * (int)between(&r, 1, 3);
            int64_t discount = unit * it->quantity * pct / 100;
            o->total += unit * it->quantity - discount;
            ig_buf_reset(&line);
            ig_buf_printf(&line, "%d,%d,%d,%d,", ++item_id, oi + 1, p + 1, it->quantity);
            put_cents(&line, unit);
            ig_buf_putc(&line, ',');
            put_cents(&line, discount);
            ig_buf_append(&g->out, line.data, line.len);
            rc = end_row(g);
            if (!rc && chance(&r, 30)) {
                ig_buf_append(&g->out, line.data, line.len);
                rc = end_row(g);
            }
        }
        o->n_items = g->n_items - o->first_item;
    }
    ig_buf_free(&line);
    return rc ? rc : end_stream(g);
}

/* ------------------------------------------------------------- payments */

static ig_rc put_payment(gen *g, int *id, int order_id, int method, int64_t amount,
                         const char *status, int64_t at)
{
    ig_buf_printf(&g->out, "%d,%d,%s,", ++*id, order_id, methods[method]);
    put_cents(&g->out, amount);
    ig_buf_printf(&g->out, ",%s,", status);
    put_ts(&g->out, at);
    return end_row(g);
}

/* Payments: one capture per completed order, a declined attempt before some
 * of them, a refund after each return, a voided authorisation for half of
 * the cancellations (the other half never reached payment). */
static ig_rc gen_payments(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_PAYMENTS);
    ig_rc rc = begin_stream(g, IG_DEMO_PAYMENTS);
    ig_buf_puts(&g->out, "payment_id,order_id,method,amount,status,paid_at\n");
    int id = 0;
    for (int oi = 0; oi < g->n_orders && !rc; oi++) {
        const order *o = &g->orders[oi];
        int method = pick(&r, method_w, 5);
        int64_t at = o->ts + between(&r, 2, 90);
        switch (o->status) {
        case ST_PROCESSING:
            rc = put_payment(g, &id, oi + 1, method, o->total, "authorized", at);
            break;
        case ST_CANCELLED:
            if (chance(&r, 5000))
                rc = put_payment(g, &id, oi + 1, method, o->total, "voided",
                                 at + between(&r, 600, 86400));
            break;
        default:
            if (chance(&r, 400)) {
                rc = put_payment(g, &id, oi + 1, 0, o->total, "failed", at);
                at += between(&r, 30, 900);
                if (method == 0 && chance(&r, 5000)) method = 1;
            }
            if (!rc) rc = put_payment(g, &id, oi + 1, method, o->total, "paid", at);
            if (!rc && o->status == ST_RETURNED)
                rc = put_payment(g, &id, oi + 1, method, o->total, "refunded",
                                 at + between(&r, 5, 25) * 86400 + between(&r, 0, 86399));
        }
    }
    return rc ? rc : end_stream(g);
}

/* ----------------------------------------------------------- web events */

static event *new_event(gen *g, int type, int64_t ms, uint32_t session, int visitor, int user,
                        int ua, int locale)
{
    if (g->n_events == g->cap_events) {
        g->cap_events = g->cap_events ? g->cap_events * 2 : 4096;
        g->events = ig_realloc(g->events, sizeof *g->events * (size_t)g->cap_events);
    }
    event *e = &g->events[g->n_events];
    memset(e, 0, sizeof *e);
    e->seq = (uint32_t)g->n_events++;
    e->type = (unsigned char)type;
    e->ms = ms;
    e->session = session;
    e->visitor = visitor;
    e->user = user;
    e->ua = (unsigned char)ua;
    e->locale = (unsigned char)locale;
    return e;
}

/* The session that placed a web order: landing page, product views, cart,
 * checkout and the completed order at the order's own time. Logged-in
 * visitors carry their user_id throughout; the others identify themselves
 * at checkout (identity stitching for later). */
static void converting_session(gen *g, rng *r, int order_id)
{
    const order *o = &g->orders[order_id - 1];
    const customer *c = &g->customers[o->customer - 1];
    uint32_t s = ++g->n_sessions;
    int ua = pick(r, ua_w, N_HUMAN_UA), first = g->n_events;
    int user = chance(r, 6000) ? o->customer : 0, vis = o->customer, loc = c->country;
    /* built forward from t = 0, then shifted so the last event is the order */
    int64_t t = 0;
    event *e = new_event(g, EV_PAGE_VIEW, t, s, vis, user, ua, loc);
    e->page = (unsigned char)(1 + g->products[g->items[o->first_item].product].category);
    for (int k = 0; k < o->n_items; k++) {
        int p = g->items[o->first_item + k].product + 1;
        if (chance(r, 3000)) { /* looked at something else first */
            t += between(r, 10000, 60000);
            e = new_event(g, EV_PRODUCT_VIEW, t, s, vis, user, ua, loc);
            e->product = pick_cum(r, g->pop_cum, g->n_products) + 1;
        }
        t += between(r, 10000, 60000);
        e = new_event(g, EV_PRODUCT_VIEW, t, s, vis, user, ua, loc);
        e->product = p;
        t += between(r, 5000, 40000);
        e = new_event(g, EV_ADD_TO_CART, t, s, vis, user, ua, loc);
        e->product = p;
    }
    t += between(r, 5000, 30000);
    new_event(g, EV_CHECKOUT_STARTED, t, s, vis, o->customer, ua, loc);
    t += between(r, 20000, 120000);
    e = new_event(g, EV_ORDER_COMPLETED, t, s, vis, o->customer, ua, loc);
    e->order = order_id;
    int64_t shift = o->ts * 1000 + (int64_t)below(r, 1000) - t;
    for (int i = first; i < g->n_events; i++)
        g->events[i].ms += shift;
}

/* A session that did not buy: it lands, maybe views products, maybe adds to
 * the cart, maybe starts a checkout. 1.5% are crawlers. */
static void browsing_session(gen *g, rng *r, int first_web_day, uint64_t web_base)
{
    uint32_t s = ++g->n_sessions;
    /* a day of the web window, weighted like the orders */
    uint64_t span = g->day_cum[g->ndays - 1] - web_base;
    uint64_t x = web_base + below(r, span);
    int di = first_web_day - g->first_day;
    while (g->day_cum[di] <= x)
        di++;
    int day = g->first_day + di;
    int64_t t =
        ((int64_t)day * 86400 + pick(r, hour_w, 22) * 3600 + (int64_t)below(r, 3600)) * 1000 +
        (int64_t)below(r, 1000);
    if (chance(r, 150)) { /* a crawler walking the catalogue */
        int ua = N_HUMAN_UA + (int)below(r, N_UA - N_HUMAN_UA), n = (int)between(r, 3, 8);
        int visitor = g->n_customers + 1000000 + (int)s;
        for (int k = 0; k < n; k++) {
            event *e = new_event(g, k ? EV_PRODUCT_VIEW : EV_PAGE_VIEW, t, s, visitor, 0, ua, 0);
            if (k) e->product = (int)below(r, (uint64_t)g->n_products) + 1;
            t += between(r, 300, 2500);
        }
        return;
    }
    /* a returning customer (logged in) or an anonymous visitor */
    int eligible = g->n_customers, user = 0, visitor, locale;
    if (chance(r, 2500)) {
        user = (int)below(r, (uint64_t)eligible) + 1;
        visitor = user;
        locale = g->customers[user - 1].country;
    } else {
        visitor = g->n_customers + 1 + (int)below(r, (uint64_t)g->n_customers * 3);
        locale = pick(r, (const unsigned[]){38, 12, 11, 8, 7, 5, 5, 4, 4, 3, 3}, N_COUNTRIES);
    }
    int ua = pick(r, ua_w, N_HUMAN_UA);
    int pages = (int)between(r, 1, 2);
    for (int k = 0; k < pages; k++) {
        event *e = new_event(g, EV_PAGE_VIEW, t, s, visitor, user, ua, locale);
        e->page = (unsigned char)below(r, N_CATEGORIES + 1);
        t += between(r, 5000, 90000);
    }
    if (!chance(r, 5800)) return;
    int views = (int)between(r, 1, 4), carted = 0;
    for (int k = 0; k < views; k++) {
        int pid = pick_cum(r, g->pop_cum, g->n_products) + 1;
        new_event(g, EV_PRODUCT_VIEW, t, s, visitor, user, ua, locale)->product = pid;
        t += between(r, 8000, 120000);
        if (chance(r, k ? 500 : 1500)) {
            /* (no event pointer is kept across new_event: it may move the array) */
            new_event(g, EV_ADD_TO_CART, t, s, visitor, user, ua, locale)->product = pid;
            carted++;
            t += between(r, 5000, 30000);
        }
    }
    if (carted && chance(r, 3500))
        new_event(g, EV_CHECKOUT_STARTED, t, s, visitor, user, ua, locale);
}

static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->ms != y->ms) return x->ms < y->ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void put_event(gen *g, const event *e)
{
    static const char *const locales[] = {"en-US", "en-GB", "de-DE", "fr-FR", "en-CA", "nl-NL",
                                          "en-AU", "es-ES", "it-IT", "sv-SE", "ja-JP"};
    ig_buf *b = &g->out;
    uint64_t seed = g->opt->seed;
    ig_buf_puts(b, "{\"event_id\":\"");
    put_uuid(b, mix(seed, 1, e->seq), mix(seed, 2, e->seq));
    ig_buf_printf(b, "\",\"event_type\":\"%s\",\"anonymous_id\":\"", event_types[e->type]);
    put_uuid(b, mix(seed, 3, (uint64_t)e->visitor), mix(seed, 4, (uint64_t)e->visitor));
    ig_buf_puts(b, "\",\"user_id\":");
    if (e->user)
        ig_buf_printf(b, "\"%d\"", e->user);
    else
        ig_buf_puts(b, "null");
    ig_buf_printf(b, ",\"session_id\":\"s_%016llx\",\"timestamp\":\"",
                  (unsigned long long)mix(seed, 5, e->session));
    put_iso_ms(b, e->ms);
    ig_buf_puts(b, "\",\"url\":\"https://shop.example.com");
    switch (e->type) {
    case EV_PAGE_VIEW:
        if (e->page)
            ig_buf_printf(b, "/c/%s", categories[e->page - 1].slug);
        else
            ig_buf_putc(b, '/');
        break;
    case EV_PRODUCT_VIEW:
        ig_buf_printf(b, "/p/%d", e->product);
        break;
    case EV_ADD_TO_CART:
        ig_buf_puts(b, "/cart");
        break;
    case EV_CHECKOUT_STARTED:
        ig_buf_puts(b, "/checkout");
        break;
    default:
        ig_buf_puts(b, "/checkout/thank-you");
        break;
    }
    ig_buf_puts(b, "\",\"product_id\":");
    if (e->product)
        ig_buf_printf(b, "%d", e->product);
    else
        ig_buf_puts(b, "null");
    ig_buf_puts(b, ",\"order_id\":");
    if (e->order)
        ig_buf_printf(b, "%d", e->order);
    else
        ig_buf_puts(b, "null");
    ig_buf_printf(b, ",\"context\":{\"user_agent\":\"%s\",\"locale\":\"%s\"}}", user_agents[e->ua],
                  locales[e->locale]);
}

/* Web events of the last WEB_DAYS days: a session for every web order in
 * the window, then browsing sessions until the target count is reached;
 * written in time order, with ~1% delivered twice (same event_id). */
static ig_rc gen_web_events(gen *g)
{
    rng r;
    rng_seed(&r, g->opt->seed, IG_DEMO_WEB_EVENTS);
    int first_web_day = g->last_day - WEB_DAYS + 1;
    for (int oi = 0; oi < g->n_orders; oi++)
        if (g->orders[oi].day >= first_web_day && g->orders[oi].channel == CH_WEB)
            converting_session(g, &r, oi + 1);
    uint64_t web_base = g->day_cum[first_web_day - g->first_day - 1];
    while (g->n_events < g->n_events_target)
        browsing_session(g, &r, first_web_day, web_base);
    qsort(g->events, (size_t)g->n_events, sizeof *g->events, cmp_event);

    ig_rc rc = begin_stream(g, IG_DEMO_WEB_EVENTS);
    ig_buf line = IG_BUF_INIT;
    for (int i = 0; i < g->n_events && !rc; i++) {
        size_t start = g->out.len;
        put_event(g, &g->events[i]);
        if (chance(&r, 100)) { /* at-least-once delivery: the same event again */
            ig_buf_reset(&line);
            ig_buf_append(&line, g->out.data + start, g->out.len - start);
            rc = end_row(g);
            ig_buf_append(&g->out, line.data, line.len);
        }
        if (!rc) rc = end_row(g);
    }
    ig_buf_free(&line);
    return rc ? rc : end_stream(g);
}

/* ------------------------------------------------------------------ API */

ig_rc ig_demo_generate(const ig_demo_gen_options *opt, const ig_demo_sink *sink, ig_error *err)
{
    if (!(opt->scale > 0 && opt->scale <= 100))
        return ig_err(err, IG_ERR_USAGE, "--scale must be greater than 0 and at most 100");
    gen g = {.opt = opt, .sink = sink, .err = err};
    g.n_customers = (int)scaled(opt->scale, 20000, 50);
    g.n_products = (int)scaled(opt->scale, 500, 20);
    g.n_orders = (int)scaled(opt->scale, 60000, 100);
    g.n_events_target = (int)scaled(opt->scale, 150000, 200);
    build_days(&g);
    ig_rc rc = gen_customers(&g);
    if (!rc) rc = gen_products(&g);
    if (!rc) rc = gen_orders(&g);
    if (!rc) rc = gen_items(&g);
    if (!rc) rc = gen_payments(&g);
    if (!rc) rc = gen_web_events(&g);
    ig_buf_free(&g.out);
    free(g.day_cum);
    free(g.customers);
    free(g.products);
    free(g.pop_cum);
    free(g.orders);
    free(g.items);
    free(g.events);
    return rc;
}
