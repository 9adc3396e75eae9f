# ruff: noqa: E501  (prose data: wrapping sentences mid-phrase would not help a reader)
"""The words of the demo: Orbit's support intents, user phrasings, answers and help articles.

The demo generator (ingest/demo/sample.py) draws every text from here, so the vocabulary of each intent
group is distinct enough for the drift view to separate topics, and the planted new topic
(Orbit Guard) uses words that appear nowhere before its launch. Templates use `{slot}` fields
filled from SLOTS; an intent's answer sees the same slot values as its question.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOTS: dict[str, tuple[str, ...]] = {
    "device": (
        "Orbit Hub", "Orbit Hub Mini", "Orbit Cam", "Orbit Plug", "Orbit Sense",
        "Orbit Lock", "Orbit Thermo", "Orbit Bulb", "hub", "camera", "smart plug",
        "door lock", "thermostat", "motion sensor",
    ),
    "plan": ("Orbit Plus", "Orbit Pro", "Orbit Basic", "Plus", "Pro", "the family plan"),
    "amount": ("$4.99", "$9.99", "$14.99", "$19.99", "$99.00", "$119.88", "$29.97", "€9.99"),
    "month": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "order": (
        "ORB-104233", "ORB-118902", "ORB-120577", "ORB-131046", "ORB-139985", "ORB-142210",
        "ORB-150398", "ORB-157731", "ORB-163004", "ORB-171288", "ORB-178650", "ORB-185517",
    ),
    "duration": (
        "since yesterday", "for 3 days", "since this morning", "for a week", "since the update",
        "for two hours", "since last night", "on and off all week", "since Monday",
    ),
    "brand": ("Alexa", "Google Home", "Apple Home", "IFTTT", "SmartThings", "Philips Hue"),
    "room": (
        "kitchen", "living room", "bedroom", "garage", "hallway", "office", "basement",
        "nursery", "porch",
    ),
    "code": ("E101", "E204", "E310", "E402", "E517", "E603", "E721"),
    "phone": ("iPhone", "Android phone", "iPad", "Pixel", "Galaxy phone", "laptop"),
    "n": ("2", "3", "4", "5", "6", "8", "10", "12"),
    "person": ("my wife", "my husband", "my son", "my daughter", "my partner", "my roommate"),
}

# Order matters: demo.py derives each slot's choice from its own bits of one random number.
SLOT_NAMES: tuple[str, ...] = tuple(SLOTS)


@dataclass(frozen=True)
class Intent:
    name: str
    weight: float  # relative frequency inside its group
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    kb: str | None  # help-center article retrieved for this intent, if any
    foreign: tuple[str, str]  # (language code, a phrasing in that language)


@dataclass(frozen=True)
class Group:
    name: str  # used in the tag topic:<name>
    share: float  # share of traffic (before the new topic takes its part)
    intents: tuple[Intent, ...]
    openers: tuple[str, ...]
    followups: tuple[str, ...]  # second/third user turns of multi-turn sessions
    followup_answers: tuple[str, ...]


def _i(name, weight, questions, answers, kb, foreign) -> Intent:
    return Intent(name, weight, tuple(questions), tuple(answers), kb, foreign)


CLOSERS: tuple[str, ...] = (
    "Is there anything else I can help you with?",
    "Let me know if that solves it.",
    "Happy to help further if anything is unclear.",
    "If this doesn't work, reply here and I'll connect you with a specialist.",
    "",
    "",
)

# Ways users open and close a first message, for variety. Most messages have none: the
# padding with "" sets the rates (prefix 25 %, context sentence 15 %, suffix 25 %).
PREFIXES: tuple[str, ...] = (
    "hi, ", "hello, ", "Hi there! ", "quick question: ", "urgent: ", "hey, ", "good morning, ",
    "Hello Orbit support, ", *[""] * 24,
)  # fmt: skip
CONTEXTS: tuple[str, ...] = (
    "We just moved house and ", "I've had Orbit for {n} months. ",
    "This was set up by {person}. ", "Sorry if this was asked before. ", "I'm on {plan}. ",
    "Using the app on my {phone}. ", *[""] * 34,
)  # fmt: skip
SUFFIXES: tuple[str, ...] = (
    "?", " please", " thanks", " asap", " pls help", "!!", " thank you", *[""] * 21,
)  # fmt: skip

BILLING = Group(
    "billing",
    0.22,
    (
        _i("refund_request", 3, (
            "I want a refund for my {plan} subscription",
            "can I get my money back for {month}? I was charged {amount}",
            "How do I request a refund for the {amount} charge",
            "refund please, i cancelled {plan} but still got billed {amount}",
            "I never used {plan} this month, can you refund the {amount}?",
        ), (
            "Refunds for {plan} are available within 30 days of a charge. Open the Orbit app, go to "
            "Account > Billing > Charges, select the {amount} charge from {month} and tap Request "
            "refund. The money returns to your original payment method within 5-10 business days.",
            "I can help with that. Charges are refundable for 30 days: in Account > Billing select "
            "the {amount} charge and choose Request refund. Annual plans are refunded pro rata for "
            "the unused months.",
        ), "[KB-2101] Refund policy: subscription charges can be refunded within 30 days. Annual "
           "plans are refunded pro rata. Refunds go to the original payment method in 5-10 "
           "business days. Path: Account > Billing > Charges > Request refund.",
           ("de", "Ich möchte eine Rückerstattung für mein {plan} Abo, mir wurden {amount} berechnet")),
        _i("double_charge", 2, (
            "I was charged twice for {plan} this month",
            "why do I see two charges of {amount} on my card",
            "double charge on my account!! {amount} two times in {month}",
            "you billed me {amount} twice, please fix",
        ), (
            "Sorry about that. A second {amount} line is usually a pending authorisation that drops "
            "off within 3 business days. If both charges still show as completed after that, "
            "open Account > Billing > Charges and tap Report a problem on the duplicate; we refund "
            "confirmed duplicates automatically.",
        ), "[KB-2107] Duplicate charges: a pending authorisation can appear next to the real charge "
           "and disappears within 3 business days. Confirmed duplicates are refunded automatically "
           "after Report a problem.",
           ("fr", "On m'a débité deux fois {amount} pour {plan} ce mois-ci")),
        _i("update_payment_method", 2, (
            "how do I change my credit card",
            "I need to update my payment method for {plan}",
            "my card expired, where do I put the new one",
            "can I pay with PayPal instead of card",
        ), (
            "You can change your payment method in the Orbit app under Account > Billing > Payment "
            "method. Tap Replace, enter the new card or choose PayPal, and save. The next {plan} "
            "charge will use the new method.",
        ), "[KB-2112] Payment methods: cards (Visa, Mastercard, Amex) and PayPal. Change under "
           "Account > Billing > Payment method > Replace.",
           ("es", "¿Cómo cambio mi tarjeta de crédito para pagar {plan}?")),
        _i("invoice_download", 1.5, (
            "where can I download my invoice for {month}",
            "I need a VAT invoice for my company",
            "send me the receipt for the {amount} payment",
            "how to get invoices for {plan}",
        ), (
            "Invoices are in Account > Billing > Invoices on my.orbit-home.com. Each month, "
            "including {month}, has a PDF with VAT details. To add a company name or VAT number, "
            "edit Billing details before downloading.",
        ), "[KB-2120] Invoices: monthly PDF invoices at my.orbit-home.com > Account > Billing > "
           "Invoices. Company name and VAT ID can be added under Billing details.",
           ("de", "Wo kann ich die Rechnung für {month} herunterladen?")),
        _i("cancel_subscription", 2.5, (
            "how do I cancel {plan}",
            "cancel my subscription please",
            "I want to stop paying for {plan}, how do I unsubscribe",
            "cancel orbit plus before next billing date",
        ), (
            "You can cancel {plan} any time in Account > Subscription > Cancel plan. You keep the "
            "features until the end of the paid period and won't be charged again. Your devices "
            "keep working on the free Orbit Basic plan.",
        ), "[KB-2131] Cancelling: Account > Subscription > Cancel plan. Features stay until the end "
           "of the billing period; devices fall back to Orbit Basic.",
           ("nl", "Hoe kan ik mijn {plan} abonnement opzeggen?")),
        _i("price_increase", 1, (
            "why did my bill go up to {amount}",
            "the price of {plan} increased without notice?",
            "my subscription is more expensive since {month}, why",
        ), (
            "{plan} prices changed on 1 {month} for new billing periods; we emailed every "
            "subscriber 30 days in advance. If the new {amount} price doesn't suit you, you can "
            "switch plans or cancel in Account > Subscription without a fee.",
        ), "[KB-2140] Price changes are announced by email 30 days before they apply. Customers may "
           "change or cancel their plan without a fee.",
           ("it", "Perché il mio abbonamento {plan} costa {amount} adesso?")),
    ),
    (
        "Thanks for reaching out about billing.",
        "I can help with your billing question.",
        "Sorry for the trouble with your bill.",
        "",
    ),
    (
        "I did that but I don't see the option",
        "how long does that take?",
        "ok and will I lose my data?",
        "it still shows the charge",
    ),
    (
        "If you don't see it in the app, use my.orbit-home.com > Account > Billing instead; the "
        "option is the same there. Changes show within a few minutes.",
        "It usually takes 5-10 business days for the bank to show it. You'll get an email as soon "
        "as we've processed it.",
    ),
)

PLANS = Group(
    "plans",
    0.10,
    (
        _i("upgrade_plan", 2, (
            "how do I upgrade to {plan}",
            "I want {plan} for more camera history",
            "upgrade my account to pro",
            "what do I get if I upgrade from Basic to {plan}",
        ), (
            "To upgrade, open Account > Subscription > Change plan and pick {plan}. The upgrade "
            "applies immediately and you pay only the difference for the rest of this period. "
            "{plan} adds 30 days of camera history and unlimited automations.",
        ), "[KB-2201] Plans: Basic (free, 24h history, 10 automations), Plus ($4.99/mo, 30 days "
           "history, unlimited automations), Pro ($9.99/mo, 60 days, 24/7 support, up to 10 homes).",
           ("pt", "Como faço upgrade para o {plan}?")),
        _i("downgrade_plan", 1, (
            "switch me from Pro to Plus",
            "I want a cheaper plan than {plan}",
            "downgrade to basic please",
        ), (
            "You can downgrade in Account > Subscription > Change plan. The change takes effect at "
            "your next billing date, so you keep {plan} until then. Camera clips older than the new "
            "plan's history limit are deleted after the switch.",
        ), "[KB-2205] Downgrades apply from the next billing date. Clips beyond the new history "
           "limit are removed.",
           ("de", "Ich möchte von Pro auf Plus wechseln")),
        _i("plan_comparison", 2, (
            "what's the difference between Plus and Pro",
            "which plan do I need for {n} cameras",
            "compare orbit plans",
            "is {plan} worth it for a small apartment",
        ), (
            "Basic is free with 24 hours of camera history. Plus ($4.99/month) gives 30 days of "
            "history and unlimited automations. Pro ($9.99/month) adds 60 days of history, 24/7 "
            "support and up to 10 homes. For {n} cameras in one home, Plus is usually enough.",
        ), "[KB-2201] Plans: Basic (free, 24h history, 10 automations), Plus ($4.99/mo, 30 days "
           "history, unlimited automations), Pro ($9.99/mo, 60 days, 24/7 support, up to 10 homes).",
           ("fr", "Quelle est la différence entre Plus et Pro ?")),
        _i("free_trial", 1.2, (
            "is there a free trial of {plan}",
            "do I get a trial month",
            "my trial ended and I was charged {amount}",
        ), (
            "New accounts get a 30-day free trial of {plan}. We remind you by email 3 days before "
            "it ends. If you were charged {amount} after the trial and didn't mean to continue, "
            "cancel within 14 days and we refund it in full.",
        ), "[KB-2210] Trials: 30 days of Plus or Pro for new accounts, reminder 3 days before the "
           "end, full refund if cancelled within 14 days of the first charge.",
           ("es", "¿Hay una prueba gratis de {plan}?")),
        _i("student_discount", 0.6, (
            "do you have a student discount",
            "any discount for seniors or students?",
            "is there a cheaper price for nonprofits",
        ), (
            "We offer 30% off Plus and Pro for students and nonprofits. Verify at "
            "orbit-home.com/discounts; the discount applies from your next billing date.",
        ), None,
           ("de", "Gibt es einen Studentenrabatt?")),
    ),
    ("Good question about our plans.", "Happy to explain the plans.", ""),
    ("and can I switch back later?", "does that include the family members?"),
    (
        "Yes, you can change plans at any time; changes apply from the next billing date.",
        "Yes, everyone you invite to your home shares the plan's features at no extra cost.",
    ),
)

SETUP = Group(
    "setup",
    0.14,
    (
        _i("hub_setup", 3, (
            "how do I set up my new {device}",
            "just got the orbit hub, what now",
            "setting up the hub, the light is blinking blue",
            "step by step setup for {device} please",
            "the app can't find my new hub during setup",
        ), (
            "Let's set it up: 1) plug the hub into power and wait for the blinking blue light, "
            "2) open the Orbit app and tap + > Add hub, 3) scan the QR code on the bottom, "
            "4) pick your Wi-Fi (2.4 GHz) and enter the password. Setup takes about 3 minutes.",
            "Welcome to Orbit! A blinking blue light means the hub is ready to pair. In the app, "
            "tap + > Add hub, scan the QR code and follow the Wi-Fi step. Keep your {phone} within "
            "a few metres of the hub during setup.",
        ), "[KB-1001] Hub setup: power on, wait for blinking blue, Orbit app > + > Add hub, scan QR, "
           "choose a 2.4 GHz Wi-Fi network. Keep the phone within 3 m.",
           ("de", "Wie richte ich meinen neuen {device} ein?")),
        _i("pair_device", 3, (
            "how do I add a {device} to my hub",
            "pairing the {device} in the {room} doesn't work",
            "can't pair new {device}",
            "add a second {device} to orbit",
        ), (
            "To pair a {device}: in the Orbit app tap + > Add device, choose the device type and "
            "put it in pairing mode (hold the button for 5 seconds until it blinks). Keep it within "
            "10 m of the hub for pairing; you can move it to the {room} afterwards.",
        ), "[KB-1012] Pairing: + > Add device, hold the device button 5 s until it blinks, keep it "
           "within 10 m of the hub. Zigbee and Thread devices supported.",
           ("fr", "Je n'arrive pas à appairer mon {device}")),
        _i("wifi_setup", 2, (
            "how do I connect the hub to a new wifi",
            "changed my router, hub no longer on wifi",
            "does the {device} work with 5GHz wifi",
            "my wifi password changed, how do I update the hub",
        ), (
            "The hub joins 2.4 GHz networks only. To change Wi-Fi, open Settings > Hub > Network > "
            "Change Wi-Fi in the app while your {phone} is near the hub. If you replaced the "
            "router, hold the hub's button for 10 seconds to enter setup mode first.",
        ), "[KB-1020] Wi-Fi: 2.4 GHz only. Settings > Hub > Network > Change Wi-Fi. After a router "
           "change hold the button 10 s for setup mode.",
           ("es", "Cambié mi router y el hub ya no se conecta al wifi")),
        _i("app_install", 1, (
            "where do I download the orbit app",
            "is the app available for my {phone}",
            "the app won't install on my {phone}",
        ), (
            "The Orbit app is on the App Store (iOS 16+) and Google Play (Android 10+). If it "
            "won't install on your {phone}, check that the OS version is supported and that you "
            "have at least 200 MB free.",
        ), None,
           ("pt", "Onde baixo o aplicativo Orbit para {phone}?")),
        _i("add_family_member", 1.5, (
            "how can {person} control the lights too",
            "share access to my home with {person}",
            "add a user to my orbit home",
        ), (
            "Invite {person} from Settings > Home > Members > Invite. They install the Orbit app, "
            "accept the invite and get access to all devices. You can make them an admin or limit "
            "them to selected rooms.",
        ), "[KB-1031] Members: Settings > Home > Members > Invite. Roles: admin, member, guest "
           "(room-limited).",
           ("it", "Come posso dare accesso alla casa a {person}?")),
    ),
    ("Great that you're setting up Orbit!", "Happy to walk you through it.", ""),
    ("it says device not found", "done, what's next?", "the QR code won't scan"),
    (
        "If the device isn't found, restart it, move it closer to the hub and try again; "
        "make sure Bluetooth is on for your phone during pairing.",
        "You're all set. Next, try creating a routine under Automations so the device does "
        "something on a schedule.",
    ),
)

TROUBLESHOOTING = Group(
    "troubleshooting",
    0.20,
    (
        _i("device_offline", 3, (
            "my {device} is offline {duration}",
            "{device} in the {room} shows unavailable",
            "why does the app say my {device} is offline",
            "all my devices went offline {duration}",
            "{device} keeps disconnecting",
        ), (
            "Let's get it back online. First, check the {device} has power. Then restart the hub "
            "(unplug for 10 seconds). If the app still shows it offline, move the device closer "
            "to the hub or add an Orbit Plug in between as a repeater. What error code do you see "
            "under Settings > Devices?",
            "Devices show offline when they lose contact with the hub. Try: 1) restart the hub, "
            "2) check Wi-Fi is up, 3) remove and re-pair the {device} if it stays offline.",
        ), "[KB-3001] Offline devices: check power, restart the hub (10 s), reduce distance or add a "
           "repeater (any mains-powered Orbit device). Persistent offline: note the error code in "
           "Settings > Devices and re-pair.",
           ("de", "Mein {device} ist {duration} offline")),
        _i("hub_no_power", 1, (
            "the hub has no lights at all",
            "hub is dead, won't turn on",
            "the orbit hub light is red",
        ), (
            "A hub with no light usually isn't getting power: try another outlet and the original "
            "adapter. A solid red light means it can't reach the internet; restart your router and "
            "then the hub. If it stays dark, it may be a hardware fault covered by warranty.",
        ), "[KB-3010] Hub LED: none = no power, red = no internet, blinking blue = setup mode, white "
           "= OK.",
           ("fr", "Le hub ne s'allume plus du tout")),
        _i("automation_not_running", 2.5, (
            "my automation didn't run this morning",
            "routine to turn on {room} lights at sunset isn't working",
            "automations stopped working {duration}",
            "the schedule for the {device} doesn't trigger",
        ), (
            "Automations run on the hub, so first check the hub is online. Then open the "
            "automation and check the time zone and conditions; an 'only when home' condition "
            "blocks it when everyone's phone is away. You can tap Test to run it now.",
        ), "[KB-3020] Automations: run locally on the hub; check hub online, time zone (Settings > "
           "Home), presence conditions. Use Test to run manually; history under Activity.",
           ("es", "Mi automatización de las luces no funciona")),
        _i("firmware_update_failed", 1.5, (
            "firmware update failed with error {code}",
            "hub update stuck at 80%",
            "the {device} update keeps failing",
        ), (
            "Error {code} means the download was interrupted. Keep the hub plugged in, restart it, "
            "and start the update again from Settings > Hub > Firmware. Don't unplug it while the "
            "light is pulsing purple.",
        ), "[KB-3031] Firmware errors: E1xx/E2xx download interrupted (restart, retry), E3xx not "
           "enough space (reboot), E4xx+ contact support. Never unplug during purple pulse.",
           ("nl", "De firmware update mislukt met fout {code}")),
        _i("camera_no_video", 2, (
            "camera shows black screen",
            "live view on my {device} won't load",
            "the {room} camera has no video {duration}",
            "cam stream keeps buffering",
        ), (
            "A black live view usually means low upload bandwidth. Check the camera's Wi-Fi signal "
            "under Settings > Devices, lower the stream quality to SD, and restart the camera. "
            "Recording continues on the hub even if live view fails.",
        ), "[KB-3040] Camera video: needs 2 Mbps upload per HD stream. Lower quality to SD, check "
           "signal strength, restart. Night vision needs IR not blocked by glass.",
           ("pt", "A câmera mostra tela preta")),
        _i("battery_drain", 1, (
            "the battery of my {device} drains in a week",
            "sensor batteries die so fast",
            "why does the {device} battery run out",
        ), (
            "Batteries last 12-18 months normally. Fast drain usually comes from a weak signal, "
            "which makes the {device} retry. Move it closer to the hub or add a repeater, and "
            "lower motion sensitivity if it triggers constantly.",
        ), None,
           ("de", "Die Batterie von meinem {device} ist nach einer Woche leer")),
    ),
    ("Sorry you're having trouble.", "Let's fix this together.", "That's annoying, let's sort it out.", ""),
    ("I tried that already", "still offline", "it worked for an hour and now again", "no error code shown"),
    (
        "Thanks for trying that. Next step: remove the device in Settings > Devices and pair it "
        "again. If that fails too, I'll open a ticket with our hardware team.",
        "If it comes back for a while and drops again, it's likely interference. Change your "
        "Wi-Fi channel to 1, 6 or 11 and keep the hub away from the router.",
    ),
)

INTEGRATIONS = Group(
    "integrations",
    0.10,
    (
        _i("alexa_link", 2, (
            "how do I connect orbit to alexa",
            "alexa says it can't find my {device}",
            "link orbit skill to amazon alexa",
        ), (
            "Enable the Orbit skill in the Alexa app, sign in with your Orbit account and say "
            "'Alexa, discover devices'. New devices appear after about 20 seconds. If the "
            "{device} is missing, give it a unique name in the Orbit app first.",
        ), "[KB-4001] Alexa: enable Orbit skill, sign in, 'discover devices'. Names must be unique.",
           ("de", "Wie verbinde ich Orbit mit Alexa?")),
        _i("google_home_link", 2, (
            "connect to google home",
            "google assistant doesn't control my {device}",
            "orbit devices don't show in google home app",
        ), (
            "In the Google Home app tap + > Set up device > Works with Google, search for Orbit "
            "and sign in. Assign each device to a room so you can say 'turn off the {room} lights'.",
        ), "[KB-4005] Google Home: + > Set up device > Works with Google > Orbit. Assign rooms.",
           ("fr", "Comment connecter Orbit à Google Home ?")),
        _i("ifttt_setup", 1, (
            "does orbit work with IFTTT",
            "how to make an IFTTT applet for the {device}",
        ), (
            "Yes, Orbit has an IFTTT service with triggers (motion, door opened) and actions "
            "(turn on, arm). Connect it at ifttt.com/orbit with your Orbit account.",
        ), None,
           ("es", "¿Orbit funciona con IFTTT?")),
        _i("homekit_support", 1.5, (
            "is orbit compatible with apple homekit",
            "does the hub support matter",
            "add orbit to apple home",
        ), (
            "Yes: the hub is a Matter bridge. In the Orbit app go to Settings > Hub > Matter, "
            "show the pairing code and scan it in the Apple Home app. All supported devices "
            "appear in Apple Home.",
        ), "[KB-4012] Matter/HomeKit: Settings > Hub > Matter > pairing code; scan in Apple Home. "
           "Cameras are not exposed via Matter.",
           ("nl", "Werkt Orbit met Apple Home?")),
        _i("api_access", 0.7, (
            "is there an API for developers",
            "can I control my {device} with a script",
            "local API for home assistant?",
        ), (
            "Orbit has a REST API for Pro accounts and a local API on the hub for Home Assistant. "
            "Create a token at my.orbit-home.com > Developer; docs are at developer.orbit-home.com.",
        ), "[KB-4020] Developer API: REST (Pro), local API on hub (all plans). Tokens at "
           "my.orbit-home.com > Developer.",
           ("de", "Gibt es eine API für Entwickler?")),
    ),
    ("Integrations are a great way to get more out of Orbit.", "Sure, here's how to connect it.", ""),
    ("it says account linking failed", "and voice commands in german?"),
    (
        "Account linking fails if you're signed in to a different Orbit account in the app; sign "
        "out, sign back in and retry the linking.",
        "Yes, voice control works in every language your assistant supports.",
    ),
)

ACCOUNT = Group(
    "account",
    0.10,
    (
        _i("reset_password", 3, (
            "I forgot my password",
            "reset password pls",
            "how do I change my orbit password",
            "password reset email never arrives",
        ), (
            "Tap Forgot password on the sign-in screen and enter your account email. The reset "
            "link is valid for 1 hour; check your spam folder if it doesn't arrive within a few "
            "minutes.",
        ), None,
           ("es", "Olvidé mi contraseña")),
        _i("two_factor", 1.5, (
            "how do I turn on two factor authentication",
            "lost my phone with the 2FA app",
            "I don't get the verification code by SMS",
        ), (
            "Turn on two-step verification under Account > Security. If you lost the device with "
            "your authenticator, use one of your backup codes to sign in, then set up 2FA again.",
        ), None,
           ("de", "Wie aktiviere ich die Zwei-Faktor-Authentifizierung?")),
        _i("change_email", 1, (
            "how do I change the email on my account",
            "update my login email",
        ), (
            "Go to Account > Profile > Email, enter the new address and confirm it from the link "
            "we send there. Your devices and plan stay the same.",
        ), None,
           ("fr", "Comment changer l'adresse e-mail de mon compte ?")),
        _i("delete_account", 0.8, (
            "delete my account and all data",
            "how do I close my orbit account",
        ), (
            "You can delete your account in Account > Privacy > Delete account. This removes your "
            "homes, devices and recordings permanently after 14 days; cancel any paid plan first.",
        ), None,
           ("nl", "Hoe verwijder ik mijn account?")),
        _i("data_export", 0.6, (
            "can I export my data",
            "download all my camera clips and history",
        ), (
            "Request an export in Account > Privacy > Export data. We email a download link "
            "within 48 hours with your device history, automations and camera clips.",
        ), None,
           ("de", "Kann ich meine Daten exportieren?")),
        _i("login_problem", 2, (
            "can't log in to the app",
            "the app keeps logging me out",
            "login says account locked",
            "sign in with apple doesn't work",
        ), (
            "After 5 failed attempts the account locks for 15 minutes. Wait, then sign in or reset "
            "your password. If the app keeps logging you out, update it to the latest version and "
            "check your {phone}'s date and time are set automatically.",
        ), None,
           ("pt", "Não consigo entrar no aplicativo")),
    ),
    ("I can help with your account.", "Sure.", ""),
    ("I don't have access to that email anymore", "it says link expired"),
    (
        "If you no longer have access to the email, contact us from orbit-home.com/help with the "
        "hub's serial number so we can verify ownership.",
        "Reset links expire after 1 hour; request a new one and use it right away.",
    ),
)

ORDERS = Group(
    "orders",
    0.08,
    (
        _i("order_status", 3, (
            "where is my order {order}",
            "my {device} hasn't arrived yet",
            "tracking for order {order}",
            "when will order {order} ship",
        ), (
            "Order {order} is handled by our shipping partner; you'll find live tracking under "
            "Account > Orders. Standard delivery takes 3-5 business days after dispatch.",
        ), "[KB-5001] Orders: tracking under Account > Orders; standard 3-5 business days, express "
           "1-2. Orders ship within 24h on business days.",
           ("de", "Wo ist meine Bestellung {order}?")),
        _i("return_device", 2, (
            "I want to return the {device}",
            "how do I send back my order {order}",
            "return policy for {device}?",
        ), (
            "You can return any device within 30 days: open Account > Orders > {order} > Return, "
            "print the free label and drop the parcel at any post office. We refund within 5 days "
            "of receiving it.",
        ), "[KB-5010] Returns: 30 days, free label via Account > Orders > Return, refund within 5 "
           "days of receipt.",
           ("fr", "Je veux retourner mon {device}")),
        _i("warranty_claim", 1, (
            "my {device} broke after {n} months, is it under warranty",
            "warranty replacement for faulty {device}",
        ), (
            "Orbit devices have a 2-year warranty. Start a claim at orbit-home.com/warranty with "
            "the order number; we ship a replacement {device} once the claim is approved.",
        ), "[KB-5020] Warranty: 2 years from delivery; claims at orbit-home.com/warranty; "
           "replacement shipped on approval.",
           ("it", "Il mio {device} si è rotto, è in garanzia?")),
        _i("damaged_delivery", 0.6, (
            "the box arrived damaged",
            "my {device} arrived broken",
        ), (
            "Sorry it arrived damaged. Send a photo via Account > Orders > {order} > Report a "
            "problem and we'll ship a replacement right away; no need to return the damaged one.",
        ), None,
           ("es", "Mi {device} llegó roto")),
    ),
    ("Thanks for your order!", "Let me check on that.", ""),
    ("it says delivered but I don't have it",),
    (
        "If tracking shows delivered but you don't have it, check with neighbours and wait 24 "
        "hours; after that, report it under Account > Orders and we'll reship.",
    ),
)

SMALLTALK = Group(
    "smalltalk",
    0.06,
    (
        _i("greeting", 2, ("hi", "hello", "hey there", "good morning"), (
            "Hi! I'm Orbit's assistant. How can I help with your smart home today?",
        ), None, ("de", "Hallo")),
        _i("thanks", 2, ("thanks!", "thank you so much", "great, that worked", "cheers"), (
            "You're welcome! Enjoy your Orbit home.",
        ), None, ("fr", "Merci beaucoup")),
        _i("human_agent", 1.5, (
            "I want to talk to a human",
            "connect me with an agent",
            "is there a phone number for support",
        ), (
            "I can connect you with our support team. Pro customers can call 24/7; everyone can "
            "chat with an agent Monday to Friday, 8:00-20:00. Shall I open a ticket for you?",
        ), None, ("es", "Quiero hablar con una persona")),
        _i("complaint", 1, (
            "your product is garbage",
            "this is the third time my {device} fails, very disappointed",
            "worst customer service ever",
        ), (
            "I'm sorry for the frustration. I'd like to make this right: tell me what went wrong "
            "with your {device} and I'll escalate it to a specialist.",
        ), None, ("de", "Ich bin sehr unzufrieden mit dem {device}")),
    ),
    ("",),
    ("ok",),
    ("Anything else I can help with?",),
)

# The planted new topic: Orbit Guard, a home-security add-on launched in week 9 of the demo.
GUARD = Group(
    "guard",
    0.0,
    (
        _i("guard_setup", 3, (
            "how do I arm Orbit Guard",
            "setting up guard mode with the keypad",
            "how do I add the siren to Orbit Guard",
            "guard setup: which sensors do I need",
        ), (
            "To start Orbit Guard, add the Guard keypad and siren via + > Add device > Guard, then "
            "choose Away, Home or Night arming modes. Each mode sets which motion zones and entry "
            "sensors trigger the siren.",
        ), "[KB-7001] Orbit Guard setup: keypad + siren, arming modes Away/Home/Night, motion zones "
           "per mode, entry delay 30 s by default.",
           ("de", "Wie scharfe ich Orbit Guard?")),
        _i("guard_false_alarm", 2.5, (
            "Guard siren went off at night for no reason",
            "false alarm from orbit guard, the cat triggered it",
            "how do I stop false alarms on Guard",
            "the siren keeps sounding when I disarm",
        ), (
            "False alarms usually come from a motion zone that covers pets. Edit the motion zone in "
            "Guard > Zones, enable pet immunity, and lengthen the entry delay so you have time to "
            "disarm with the keypad.",
        ), "[KB-7010] Guard false alarms: pet immunity (up to 25 kg), motion zone editing, entry "
           "delay 30-120 s, siren test mode.",
           ("fr", "Fausse alarme de la sirène Orbit Guard cette nuit")),
        _i("guard_pricing", 1.5, (
            "how much is orbit guard monitoring",
            "is professional monitoring included with Guard",
            "guard monitoring contract price",
        ), (
            "Orbit Guard self-monitoring is included with Plus and Pro. Professional 24/7 "
            "monitoring with dispatch costs $14.99/month with no long-term contract.",
        ), "[KB-7020] Guard monitoring: self-monitoring included (Plus/Pro); professional "
           "monitoring $14.99/mo, monthly, cancel any time.",
           ("es", "¿Cuánto cuesta la monitorización de Orbit Guard?")),
        _i("guard_siren_volume", 1, (
            "can I lower the siren volume",
            "the Guard siren is too loud for my apartment",
        ), (
            "Set the siren volume in Guard > Siren > Volume (70-105 dB). A silent mode sends only "
            "push alerts.",
        ), None,
           ("nl", "Kan ik het volume van de sirene verlagen?")),
        _i("guard_arming_schedule", 1, (
            "can guard arm itself when I leave",
            "automatic arming schedule for orbit guard at night",
        ), (
            "Yes: in Guard > Schedules you can arm Night mode at a set time, or enable geofencing "
            "so Guard arms Away when the last family phone leaves home.",
        ), None,
           ("de", "Kann Guard sich automatisch scharf schalten?")),
    ),
    ("Thanks for trying Orbit Guard!", "Happy to help with Guard.", ""),
    ("and does it call the police?", "the keypad beeps constantly"),
    (
        "With professional monitoring, our operators call you first and dispatch the police if you "
        "don't answer or confirm an emergency.",
        "Constant beeping means the keypad battery is low or a sensor is open; check Guard > "
        "Status.",
    ),
)

BASE_GROUPS: tuple[Group, ...] = (
    BILLING, PLANS, SETUP, TROUBLESHOOTING, INTEGRATIONS, ACCOUNT, ORDERS, SMALLTALK,
)
ALL_GROUPS: tuple[Group, ...] = (*BASE_GROUPS, GUARD)

FOREIGN_REPLY: dict[str, str] = {
    "de": "Danke für Ihre Nachricht. Gehen Sie in der Orbit-App zu Einstellungen und folgen Sie den "
          "Schritten im Hilfe-Artikel; bei Fragen helfe ich gern weiter.",
    "fr": "Merci pour votre message. Dans l'application Orbit, ouvrez Réglages et suivez les "
          "étapes de l'article d'aide ; je reste à votre disposition.",
    "es": "Gracias por tu mensaje. En la aplicación Orbit, abre Ajustes y sigue los pasos del "
          "artículo de ayuda; aquí estoy si necesitas algo más.",
    "pt": "Obrigado pela mensagem. No aplicativo Orbit, abra Configurações e siga os passos do "
          "artigo de ajuda; estou à disposição.",
    "it": "Grazie per il messaggio. Nell'app Orbit apri Impostazioni e segui i passaggi "
          "dell'articolo di aiuto; sono qui se serve altro.",
    "nl": "Bedankt voor je bericht. Open in de Orbit-app Instellingen en volg de stappen uit het "
          "helpartikel; laat het weten als je nog vragen hebt.",
}

SYSTEM_PROMPTS: dict[tuple[str, str], str] = {
    ("orbit-support", "v3"): (
        "You are Orbit's customer support assistant. Orbit makes smart-home hubs, cameras, "
        "sensors and the Orbit Basic/Plus/Pro subscriptions. Answer the customer's question "
        "concisely and accurately using the help-center context when it is given. Never invent "
        "prices, policies or order details. If you cannot help, offer a human agent."
    ),
    ("orbit-support", "v4"): (
        "You are Orbit's customer support assistant. Orbit makes smart-home hubs, cameras, "
        "sensors and the Orbit Basic/Plus/Pro subscriptions. Answer the customer's question "
        "concisely and accurately using the help-center context when it is given. Never invent "
        "prices, policies or order details. If you cannot help, offer a human agent.\n"
        "For device problems: ask for the error code and the hub's LED colour, then give "
        "numbered steps one at a time, starting with the least disruptive fix (restart before "
        "re-pairing, re-pairing before a factory reset)."
    ),
    ("orbit-smalltalk", "v1"): (
        "You are Orbit's friendly assistant. Reply briefly and warmly. For anything beyond "
        "greetings and thanks, offer to help with the customer's Orbit devices or subscription."
    ),
}

JUDGE_GOOD: tuple[str, ...] = (
    "The answer addresses the {intent} question directly and the steps match the help article.",
    "Accurate and complete: it gives the right menu path and sets expectations on timing.",
    "Helpful and concise; grounded in the retrieved context with no invented details.",
    "Correctly resolves the user's {topic} issue; tone is polite and clear.",
    "Gives actionable steps in the right order and offers a next step if it fails.",
)
JUDGE_BAD: tuple[str, ...] = (
    "The answer is generic and does not address the specific {intent} question.",
    "States a policy that contradicts the help article (wrong time window or amount).",
    "Misses the key step for this {topic} issue and asks the user to contact support instead.",
    "Hallucinates a menu path that does not exist in the app.",
    "Partially correct but omits the refund/processing timeline the user asked about.",
    "Ignores the retrieved context and gives an answer for a different product.",
)
CORRECTION_NOTES: tuple[str, ...] = (
    "Corrected: the window is 30 days, not 14.",
    "Corrected menu path per the help article.",
    "Added the missing step and removed the invented detail.",
    "Rewritten to answer the actual question.",
)

ERRORS: dict[str, str] = {
    "timeout": "Request timed out after 30.0 seconds",
    "rate_limit": "Rate limit reached for requests per minute (RPM): limit 10000. Please try again "
                  "in 2s.",
    "server_error": "The server had an error while processing your request. Sorry about that!",
    "context_length_exceeded": "This model's maximum context length was exceeded; please reduce "
                               "the length of the messages.",
    "content_filter": "The response was filtered due to the prompt triggering the content "
                      "management policy.",
}
